package agent

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/testserver"
	"github.com/syncagent/syncagent/server"
)

// slowConfig is agentConfig with polls and rescans an hour apart, so that
// within a test only the watcher (or a watcher restart) starts a pass.
func slowConfig(t *testing.T, s *e2eServer, local string) Config {
	cfg := agentConfig(t, s, local, ModePush)
	cfg.Folders[0].Poll = config.Duration(time.Hour)
	cfg.Folders[0].Rescan = config.Duration(time.Hour)
	cfg.WatchRetryMax = 200 * time.Millisecond
	return cfg
}

func remoteHas(s *e2eServer, rel, content string) func() bool {
	return func() bool {
		b, err := os.ReadFile(filepath.Join(s.Home, "remote", filepath.FromSlash(rel)))
		return err == nil && string(b) == content
	}
}

// waitWatchedAgain waits until the folder's watcher runs again and a full
// pass has ended since: from then on only the watcher can start a pass.
func waitWatchedAgain(t *testing.T, f *folder, starts int64) {
	t.Helper()
	waitUntil(t, "the watcher to start again", func() bool {
		return f.live.watchStarts.Load() > starts && f.Status().Watcher == ""
	})
	f.mu.Lock()
	since := f.live.rewatched
	f.mu.Unlock()
	// The full pass that follows a new watcher starts after it is
	// recorded, so it ends after since.
	waitUntil(t, "a pass after the watcher started", func() bool {
		st := f.Status()
		return st.State == "idle" && st.LastSync.After(since)
	})
}

// TestFolderMissingAtBootIsRetried starts an agent whose only folder does
// not exist yet: run goes on, the status says the folder is not watched,
// and once the folder appears its watcher starts and reports changes
// (polls and rescans are an hour apart).
func TestFolderMissingAtBootIsRetried(t *testing.T) {
	s := startE2EServer(t)
	local := filepath.Join(t.TempDir(), "not-yet")
	a, err := New(slowConfig(t, s, local), testserver.Logger(t, slog.LevelInfo))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ran:
		case <-time.After(30 * time.Second):
			t.Error("run did not return after its context ended")
		}
		a.Close()
	})
	f := a.folders[0]
	waitUntil(t, "the status to show the watcher's error", func() bool {
		select {
		case err := <-ran:
			t.Fatalf("run returned: %v", err)
		default:
		}
		return strings.Contains(f.Status().Watcher, "not watching")
	})
	starts := f.live.watchStarts.Load()
	putFile(t, filepath.Join(local, "first.txt"), "first")
	waitWatchedAgain(t, f, starts)
	waitUntil(t, "first.txt on the server", remoteHas(s, "first.txt", "first"))
	putFile(t, filepath.Join(local, "second.txt"), "second")
	waitUntil(t, "second.txt, reported by the watcher", remoteHas(s, "second.txt", "second"))
}

// TestWatcherRestartsAfterFolderReturns removes the synced folder and
// makes it again: a new watcher starts, and a change made afterwards
// arrives through it, with polls and rescans an hour apart.
func TestWatcherRestartsAfterFolderReturns(t *testing.T) {
	s := startE2EServer(t)
	local := filepath.Join(t.TempDir(), "docs")
	putFile(t, filepath.Join(local, "a.txt"), "a")
	a, _ := runAgentWithStatus(t, slowConfig(t, s, local))
	f := a.folders[0]
	waitUntil(t, "a.txt on the server", remoteHas(s, "a.txt", "a"))
	starts := f.live.watchStarts.Load()
	if err := os.RemoveAll(local); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the status to say the folder is not watched", func() bool {
		return strings.Contains(f.Status().Watcher, "not watching")
	})
	putFile(t, filepath.Join(local, "a.txt"), "a")
	waitWatchedAgain(t, f, starts)
	putFile(t, filepath.Join(local, "b.txt"), "b")
	waitUntil(t, "b.txt, reported by the new watcher", remoteHas(s, "b.txt", "b"))
}

// TestLargeFileUploadedOnceWhenQuiet writes 8 MiB slowly (2 MiB, then 64
// KiB every 10 ms, longer than the watcher's longest delay, so it reports
// the file while it grows): the agent waits until the file is quiet and
// uploads it once, complete. The server's log counts the STORs.
func TestLargeFileUploadedOnceWhenQuiet(t *testing.T) {
	var serverLog lockedBuffer
	cfg := server.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Root = t.TempDir()
	cfg.PassivePorts = ""
	cfg.Users = []server.UserConfig{{Name: "agent", PasswordHash: testserver.Hash(e2ePassword), Home: "agent"}}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(&serverLog, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s := &e2eServer{Addr: testserver.Start(t, srv, testserver.Options{}).Addr, Home: filepath.Join(cfg.Root, "agent")}

	local := t.TempDir()
	acfg := slowConfig(t, s, local)
	acfg.QuietTime = 2 * time.Second // far above any stall of the writer below
	a, _ := runAgentWithStatus(t, acfg)
	f := a.folders[0]
	waitUntil(t, "the first pass", func() bool { return !f.Status().LastSync.IsZero() })

	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	const chunks = 128
	// The first write makes it large at once: a smaller file is not held,
	// and a loaded machine may pause the writer for a debounce or more
	// (then the empty file, complete as it stands, may be sent first).
	first := 2 * LargeFile / len(chunk)
	head := bytes.Repeat(chunk, first)
	w, err := os.Create(filepath.Join(local, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(head); err != nil {
		t.Fatal(err)
	}
	for range chunks - first {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat(string(chunk), chunks)
	waitUntil(t, "big.bin complete on the server", remoteHas(s, "big.bin", want))
	waitUntil(t, "the agent to be idle", func() bool { return f.Status().State == "idle" })
	// Every STOR (the only way a file of LargeFile bytes or more is sent)
	// carried the whole file, and there was one.
	stors := serverLog.lines("verb=STOR")
	if len(stors) != 1 || !strings.Contains(stors[0], fmt.Sprintf("bytes=%d ", len(want))) {
		t.Fatalf("big.bin took %d STORs, want 1 of all %d bytes:\n%s", len(stors), len(want), strings.Join(stors, "\n"))
	}
}
