package agent

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/syncstate"
)

// metaAgentID is the state file's key for the agent's id.
const metaAgentID = "agent_id"

// agentIDLen is the length of an agent id: 7 base-32 characters (35
// bits), short in a file name, and two agents of one folder share one
// with a chance of about 1 in 34 billion.
const agentIDLen = 7

// maxConflictNames bounds the names tried for one conflict copy.
const maxConflictNames = 100

// loadAgentID returns the agent's id from the state file, making and
// storing one on first use: it stays the same across restarts, so the
// conflict copies one agent makes are recognisably its own.
func loadAgentID(db *syncstate.DB) (string, error) {
	id, ok, err := db.Meta(metaAgentID)
	if err != nil {
		return "", fmt.Errorf("read agent id: %w", err)
	}
	if ok && id != "" {
		return id, nil
	}
	id = rand.Text()[:agentIDLen]
	if err := db.SetMeta(metaAgentID, id); err != nil {
		return "", fmt.Errorf("store agent id: %w", err)
	}
	if err := db.Flush(); err != nil {
		return "", fmt.Errorf("store agent id: %w", err)
	}
	return id, nil
}

// ID returns the agent's short, stable id (kept in the state file), which
// names its conflict copies. Safe for concurrent use.
func (a *Agent) ID() string { return a.id }

// conflictName picks the name the local side of a conflict at rel moves
// to: plan.ConflictName with this agent's id, or, when something already
// has that name locally or on the server, the id with "-2", "-3" and so
// on, so that a new conflict copy never replaces an existing file.
func (f *folder) conflictName(rel string) (string, error) {
	now := f.now()
	for n := 1; n <= maxConflictNames; n++ {
		id := f.agentID
		if n > 1 {
			id += "-" + strconv.Itoa(n)
		}
		name := plan.ConflictName(rel, now, id)
		_, err := os.Lstat(filepath.Join(f.root, filepath.FromSlash(name)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		f.mu.Lock()
		_, onServer := f.remote[name]
		_, synced := f.base[name]
		f.mu.Unlock()
		if err != nil && !onServer && !synced {
			return name, nil
		}
	}
	return "", fmt.Errorf("conflict copy of %s: %d names taken", rel, maxConflictNames)
}
