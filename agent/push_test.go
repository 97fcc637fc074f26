package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPushInitialAndLiveChanges(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	putFile(t, filepath.Join(local, "a.txt"), "alpha")
	putFile(t, filepath.Join(local, "empty"), "")
	putFile(t, filepath.Join(local, "deep/er/ü n i c ö d e.txt"), "unicode and spaces")
	os.MkdirAll(filepath.Join(local, "emptydir/inner"), 0o755)
	for i := range 50 {
		putFile(t, filepath.Join(local, "many", strings.Repeat("x", i%7+1)+string(rune('a'+i%26))+".txt"), strings.Repeat("y", i*100))
	}
	putFile(t, filepath.Join(local, "ignored.tmp"), "never synced")
	cfg := agentConfig(t, s, local, ModePush)
	cfg.Folders[0].Ignore = []string{"*.tmp"}
	runAgent(t, cfg)
	remote := filepath.Join(s.Home, "remote")
	os.Remove(filepath.Join(local, "ignored.tmp"))
	waitSame(t, local, remote)

	// Live changes: edit, create, delete, rename a file and a directory.
	putFile(t, filepath.Join(local, "a.txt"), "alpha v2, longer")
	putFile(t, filepath.Join(local, "new/dir/file.bin"), strings.Repeat("z", 70000))
	os.Remove(filepath.Join(local, "empty"))
	os.Rename(filepath.Join(local, "deep"), filepath.Join(local, "moved"))
	os.Rename(filepath.Join(local, "many/xa.txt"), filepath.Join(local, "many/renamed.txt"))
	os.RemoveAll(filepath.Join(local, "emptydir"))
	waitSame(t, local, remote)

	// Remote drift (someone edits the mirror) is repaired by the next poll.
	putFile(t, filepath.Join(remote, "a.txt"), "tampered")
	putFile(t, filepath.Join(remote, "intruder.txt"), "remote only")
	waitSame(t, local, remote)
}

func TestPushResumesAfterRestartFromState(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	putFile(t, filepath.Join(local, "one.txt"), "1")
	cfg := agentConfig(t, s, local, ModePush)
	stop := runAgent(t, cfg)
	remote := filepath.Join(s.Home, "remote")
	waitSame(t, local, remote)
	stop()

	// Changes while no agent runs are found by the next start.
	putFile(t, filepath.Join(local, "one.txt"), "1 edited offline")
	putFile(t, filepath.Join(local, "two.txt"), "2")
	runAgent(t, cfg)
	waitSame(t, local, remote)
}

func TestPushSurvivesServerRestart(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	putFile(t, filepath.Join(local, "before.txt"), "before")
	runAgent(t, agentConfig(t, s, local, ModePush))
	remote := filepath.Join(s.Home, "remote")
	waitSame(t, local, remote)
	s.stop()
	putFile(t, filepath.Join(local, "during.txt"), "written while the server was down")
	s.restart()
	waitSame(t, local, remote)
}

func TestMaxDeleteRefusesEmptiedSource(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	for i := range 20 {
		putFile(t, filepath.Join(local, "f", string(rune('a'+i))+".txt"), "content")
	}
	cfg := agentConfig(t, s, local, ModePush)
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	if err := a.Sync(ctx, "", false, io.Discard); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	// The local folder empties (an unmounted disk looks like this).
	os.RemoveAll(filepath.Join(local, "f"))
	err = a.Sync(ctx, "", false, io.Discard)
	if !errors.Is(err, ErrTooManyDeletes) {
		t.Fatalf("sync after emptying: %v, want ErrTooManyDeletes", err)
	}
	if n := len(tree(t, filepath.Join(s.Home, "remote", "f"))); n != 20 {
		t.Fatalf("remote has %d files after the refused pass, want all 20", n)
	}
}
