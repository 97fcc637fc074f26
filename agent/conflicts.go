package agent

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/agent/status"
)

// conflictRe matches a conflict copy's base name: NAME.sync-conflict-
// YYYYMMDD-HHMMSS[-AGENTID][.EXT], as plan.ConflictName makes it (with or
// without the agent id that names from newer agents carry).
var conflictRe = regexp.MustCompile(`^(.+?)\.sync-conflict-(\d{8}-\d{6})(?:-([0-9A-Za-z]+))?(\.[^.]+)?$`)

// parseConflictName reports whether rel (a slash path) names a conflict
// copy, and if so of which path, when, and by which agent.
func parseConflictName(rel string) (c status.ConflictCopy, ok bool) {
	dir, name := path.Split(rel)
	m := conflictRe.FindStringSubmatch(name)
	if m == nil {
		return c, false
	}
	t, err := time.Parse("20060102-150405", m[2])
	if err != nil {
		return c, false
	}
	return status.ConflictCopy{Path: rel, Original: dir + m[1] + m[4], Time: t, Agent: m[3]}, true
}

// FindConflicts lists the conflict copies under root (a folder's local
// path), sorted by path; agent temporaries are not looked at. It stops
// early, returning what it found and ctx's error, when ctx ends.
func FindConflicts(ctx context.Context, root string) ([]status.ConflictCopy, error) {
	var out []status.ConflictCopy
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // an unreadable subfolder: sync reports it
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), remote.TempPrefix) || !d.Type().IsRegular() || !strings.Contains(d.Name(), ".sync-conflict-") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return nil
		}
		c, ok := parseConflictName(filepath.ToSlash(rel))
		if !ok {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			c.Size = fi.Size()
		}
		out = append(out, c)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	if errors.Is(err, fs.ErrNotExist) {
		err = nil // a folder not created yet has no conflicts
	}
	return out, err
}

// DefaultConflictScanEvery is Agent.ConflictScanEvery when zero.
const DefaultConflictScanEvery = 10 * time.Second

// conflictCache keeps each folder's conflict copies for the status
// report, walking a folder again only when its list is older than the
// agent's ConflictScanEvery. Safe for concurrent use.
type conflictCache struct {
	mu   sync.Mutex
	at   map[string]time.Time
	list map[string][]status.ConflictCopy
}

// get returns the conflict copies of the folder called name under root,
// walking it if its list is older than every.
func (c *conflictCache) get(ctx context.Context, name, root string, every time.Duration) []status.ConflictCopy {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == nil {
		c.at, c.list = make(map[string]time.Time), make(map[string][]status.ConflictCopy)
	}
	if at, ok := c.at[name]; ok && time.Since(at) < every {
		return c.list[name]
	}
	list, err := FindConflicts(ctx, root)
	if err == nil {
		c.at[name], c.list[name] = time.Now(), list
	}
	return list
}
