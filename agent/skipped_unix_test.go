//go:build unix

package agent

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/syncagent/syncagent/agent/status"
)

// TestSpecialFilesSkipped: a symlink and a FIFO in a two-way folder are
// left out of sync, logged once each, and listed in the status; a remote
// file at the symlink's path does not replace it, and is not deleted.
func TestSpecialFilesSkipped(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	outside := filepath.Join(t.TempDir(), "target.txt")
	putFile(t, outside, "outside the folder")
	putFile(t, filepath.Join(local, "a.txt"), "a")
	if err := os.Symlink(outside, filepath.Join(local, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(local, "pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	putFile(t, filepath.Join(s.Home, "remote", "link"), "the server's file")
	cfg := agentConfig(t, s, local, ModeTwoWay)
	logs := &lockedBuffer{}
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for range 2 {
		if err := a.Sync(context.Background(), "", false, io.Discard); err != nil {
			t.Fatalf("sync: %v", err)
		}
	}
	if target, err := os.Readlink(filepath.Join(local, "link")); err != nil || target != outside {
		t.Errorf("the local symlink was replaced: readlink %q, %v", target, err)
	}
	if b, err := os.ReadFile(filepath.Join(s.Home, "remote", "link")); err != nil || string(b) != "the server's file" {
		t.Errorf("the remote file at the symlink's path: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(s.Home, "remote", "pipe")); err == nil {
		t.Error("the FIFO was synced")
	}
	if b, err := os.ReadFile(filepath.Join(s.Home, "remote", "a.txt")); err != nil || string(b) != "a" {
		t.Errorf("the regular file was not synced: %q, %v", b, err)
	}
	for _, p := range []string{"path=link kind=symlink", "path=pipe kind=fifo"} {
		if n := len(logs.lines("skipped: not a regular file", p)); n != 1 {
			t.Errorf("%d log lines for %s over two passes, want 1", n, p)
		}
	}
	want := []status.Skipped{{Path: "link", Kind: "symlink"}, {Path: "pipe", Kind: "fifo"}}
	rep := a.Report(context.Background())
	if got := rep.Folders[0].Skipped; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("status lists skipped %v, want %v", got, want)
	}
}
