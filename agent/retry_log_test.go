package agent

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServerAwayLoggedOnce: while the server is down every retry fails
// the same way; that is logged once at error level (the rest at debug),
// with an error that names the address once, and the recovery is logged.
func TestServerAwayLoggedOnce(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	putFile(t, filepath.Join(local, "a.txt"), "a")
	cfg := agentConfig(t, s, local, ModePush)
	logs := &lockedBuffer{}
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	waitUntil(t, "the first sync", func() bool { return !a.Status()[0].LastSync.IsZero() })

	s.stop()
	waitUntil(t, "two quiet retries", func() bool { return len(logs.lines("sync pass failed again", "connection refused")) >= 2 })
	// (The pass cut when the server went is another failure, logged too.)
	failed := logs.lines("level=ERROR", "sync pass failed", "connection refused")
	if len(failed) != 1 {
		t.Fatalf("%d error lines for one recurring failure, want 1:\n%s", len(failed), strings.Join(failed, "\n"))
	}
	if strings.Count(failed[0], s.Addr) != 1 {
		t.Errorf("the error names the address %d times, want once: %s", strings.Count(failed[0], s.Addr), failed[0])
	}
	// The status shows the server down, with why (its capabilities are
	// remembered from before, so asking for them does not tell).
	if srv := a.Report(ctx).Servers[0]; srv.Connected || !strings.Contains(srv.Error, "connection refused") {
		t.Errorf("status of the server while it is down: %+v", srv)
	}

	s.restart()
	waitUntil(t, "the recovery line", func() bool { return len(logs.lines("level=INFO", "sync pass succeeded again")) == 1 })
	time.Sleep(100 * time.Millisecond) // a few more polls: no second recovery line
	if n := len(logs.lines("sync pass succeeded again")); n != 1 {
		t.Errorf("%d recovery lines, want 1", n)
	}
}
