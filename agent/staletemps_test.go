package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
)

// TestStaleTempsRemovedWhileRunning: a long-running agent removes agent
// temporaries that another (killed) agent leaves on the server after its
// start, on its rescan tick, once they are older than the stale age; a
// young one, which may belong to an upload in progress, stays.
func TestStaleTempsRemovedWhileRunning(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	remote := filepath.Join(s.Home, "remote")
	putFile(t, filepath.Join(local, "a.txt"), "a")
	putFile(t, filepath.Join(local, "sub/b.txt"), "b")
	cfg := agentConfig(t, s, local, ModePush)
	cfg.StaleTempAge = time.Hour
	cfg.Folders[0].Rescan = config.Duration(200 * time.Millisecond)
	e2eStartAgent(t, cfg)
	waitMirror(t, local, remote)

	// The start-up clean-up is over. The young temporary is written first,
	// so the clean-up that removes the old one has seen both.
	young := filepath.Join(remote, ".syncagent-0123456789abcdef")
	putFile(t, young, "in progress elsewhere")
	stale := filepath.Join(remote, "sub/.syncagent-deadbeefdeadbeef")
	putFile(t, stale, "half an upload of a killed agent")
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	e2eWaitFor(t, "the stale temporary to be removed on a rescan tick", func() bool {
		_, err := os.Stat(stale)
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(young); err != nil {
		t.Fatalf("a young temporary was removed: %v", err)
	}
	// The young temporary is no user file: the mirror is otherwise intact.
	waitMirror(t, local, remote, ".syncagent-0123456789abcdef")
}
