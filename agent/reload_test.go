package agent

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestReloadWhileRunning: Reload adds a folder to a running agent while
// status reports are read, keeps the unchanged one, and refuses a change
// of state file. Run with -race, it checks the locking too.
func TestReloadWhileRunning(t *testing.T) {
	s := startE2EServer(t)
	one, two := t.TempDir(), t.TempDir()
	putFile(t, filepath.Join(one, "1.txt"), "one")
	putFile(t, filepath.Join(two, "2.txt"), "two")
	cfg := agentConfig(t, s, one, ModePush)
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done; a.Close() }()
	waitUntil(t, "folder f synced", func() bool { return len(a.Report(ctx).Folders) == 1 && !a.Status()[0].LastSync.IsZero() })
	kept := a.folders[0]

	next := cfg
	next.Folders = append(append([]FolderConfig(nil), cfg.Folders...), cfg.Folders[0])
	next.Folders[1].Name, next.Folders[1].Path, next.Folders[1].Remote = "g", two, "/g"
	stopReports := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopReports:
				return
			default:
				a.Report(ctx)
			}
		}
	}()
	started, stopped, err := a.Reload(next)
	close(stopReports)
	if err != nil || len(started) != 1 || started[0] != "g" || len(stopped) != 0 {
		t.Fatalf("reload: started %v, stopped %v, %v; want g started, nothing stopped", started, stopped, err)
	}
	waitUntil(t, "folder g synced", func() bool {
		b, err := os.ReadFile(filepath.Join(s.Home, "g", "2.txt"))
		return err == nil && string(b) == "two"
	})
	a.mu.Lock()
	same := a.folders[0] == kept
	a.mu.Unlock()
	if !same {
		t.Error("the unchanged folder was replaced")
	}
	bad := next
	bad.State = filepath.Join(t.TempDir(), "other.db")
	if _, _, err := a.Reload(bad); err == nil {
		t.Error("a new state file was accepted without a restart")
	}
}
