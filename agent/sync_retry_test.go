package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/internal/testproxy"
)

const retryLogMsg = "sync pass failed; retrying"

// syncRetryAgent returns an agent for cfg whose Sync makes at most
// attempts passes 10ms apart, and the log it writes.
func syncRetryAgent(t *testing.T, cfg Config, attempts int) (*Agent, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	a.SyncAttempts = attempts
	a.SyncRetryDelay = 10 * time.Millisecond
	return a, logs
}

// cutMidSync fills a folder with small files (sent in SITE BATCH uploads),
// arms p to reset every connection once a quarter of them has gone
// through, and runs one Sync with at most attempts passes.
func cutMidSync(t *testing.T, attempts int) (local, remoteDir string, logs *lockedBuffer, err error) {
	t.Helper()
	s := startE2EServer(t)
	p := testproxy.New(t, s.Addr, nil)
	local = t.TempDir()
	for i := range 40 {
		writeRandom(t, filepath.Join(local, fmt.Sprintf("dir%d/file%02d.bin", i%4, i)), 32<<10)
	}
	cfg := agentConfig(t, s, local, ModePush)
	sc := cfg.Servers["srv"]
	sc.Address = p.Addr()
	cfg.Servers["srv"] = sc
	a, logs := syncRetryAgent(t, cfg, attempts)
	p.CutAfter(10 * 32 << 10)
	err = a.Sync(context.Background(), "", false, io.Discard)
	if p.Cuts() == 0 {
		t.Fatalf("the proxy never cut the connections (%d bytes sent): the test did not test anything", p.Sent())
	}
	return local, filepath.Join(s.Home, "remote"), logs, err
}

// TestSyncRetriesAfterConnectionCut: `syncagent sync` whose connections
// are reset mid-pass runs the pass again and ends in sync.
func TestSyncRetriesAfterConnectionCut(t *testing.T) {
	local, remoteDir, logs, err := cutMidSync(t, 3)
	if err != nil {
		t.Fatalf("sync after a connection cut: %v, want nil (retried)", err)
	}
	if n := len(logs.lines(retryLogMsg, "folder=f", "attempt=1")); n != 1 {
		t.Fatalf("%d retry log lines for attempt 1, want 1: the cut did not fail a pass", n)
	}
	if d := mirrorDiff(&hashCache{}, local, remoteDir, nil); len(d) > 0 {
		t.Fatalf("remote differs from local after sync returned nil:\n%s", strings.Join(d, "\n"))
	}
	if tmp := temps(remoteDir); len(tmp) > 0 {
		t.Fatalf("temporaries left on the server: %v", tmp)
	}
}

// TestSyncWithoutRetriesFailsOnCut is the control for the test above: the
// same cut fails a Sync allowed a single pass, with a transient error.
func TestSyncWithoutRetriesFailsOnCut(t *testing.T) {
	_, _, logs, err := cutMidSync(t, 1)
	if err == nil || !remote.IsTransient(err) {
		t.Fatalf("single-pass sync through a cut: %v, want a transient error", err)
	}
	if n := len(logs.lines(retryLogMsg)); n != 0 {
		t.Fatalf("%d retries with SyncAttempts 1", n)
	}
}

// TestSyncDoesNotRetryPermanentErrors: a refused login, a cancelled
// context and a dry run fail at once, whatever the attempts allowed.
func TestSyncDoesNotRetryPermanentErrors(t *testing.T) {
	cases := []struct {
		name  string
		setup func(s *e2eServer, cfg *Config) (ctx context.Context, dryRun bool)
		check func(err error) bool
	}{
		{"wrong password", func(s *e2eServer, cfg *Config) (context.Context, bool) {
			sc := cfg.Servers["srv"]
			sc.Password = "not-" + e2ePassword
			cfg.Servers["srv"] = sc
			return context.Background(), false
		}, func(err error) bool { return remote.ReplyCode(err) == 530 }},
		{"cancelled", func(s *e2eServer, cfg *Config) (context.Context, bool) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, false
		}, func(err error) bool { return errors.Is(err, context.Canceled) }},
		{"dry run, server down", func(s *e2eServer, cfg *Config) (context.Context, bool) {
			s.stop()
			return context.Background(), true
		}, remote.IsTransient},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startE2EServer(t)
			local := t.TempDir()
			putFile(t, filepath.Join(local, "a.txt"), "a")
			cfg := agentConfig(t, s, local, ModePush)
			ctx, dryRun := c.setup(s, &cfg)
			a, logs := syncRetryAgent(t, cfg, 3)
			err := a.Sync(ctx, "", dryRun, io.Discard)
			if err == nil || !c.check(err) {
				t.Fatalf("sync: %v, want the %s error", err, c.name)
			}
			if n := len(logs.lines(retryLogMsg)); n != 0 || strings.Contains(err.Error(), "gave up") {
				t.Fatalf("a %s was retried (%d retry log lines): %v", c.name, n, err)
			}
		})
	}
}

// TestSyncDoesNotRetryMaxDelete: the max_delete refusal, which
// remote.IsTransient alone would take for protocol trouble, fails at once.
func TestSyncDoesNotRetryMaxDelete(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	for i := range 20 {
		putFile(t, filepath.Join(local, "f", fmt.Sprintf("%02d.txt", i)), "content")
	}
	a, logs := syncRetryAgent(t, agentConfig(t, s, local, ModePush), 3)
	if err := a.Sync(context.Background(), "", false, io.Discard); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(local, "f")); err != nil {
		t.Fatal(err)
	}
	err := a.Sync(context.Background(), "", false, io.Discard)
	if !errors.Is(err, ErrTooManyDeletes) {
		t.Fatalf("sync after emptying: %v, want ErrTooManyDeletes", err)
	}
	if n := len(logs.lines(retryLogMsg)); n != 0 {
		t.Fatalf("the max_delete refusal was retried %d times", n)
	}
}
