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
	"time"
)

// runAgentWithStatus is runAgent that also returns the Agent, for its Status.
func runAgentWithStatus(t testing.TB, cfg Config) (*Agent, func()) {
	t.Helper()
	a, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		a.Close()
	}
	t.Cleanup(stop)
	return a, stop
}

// newSyncAgent makes an Agent for one-pass Sync calls, closed at cleanup.
func newSyncAgent(t testing.TB, cfg Config) *Agent {
	t.Helper()
	a, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// syncUntilClean runs passes until one leaves nothing to do (conflict
// copies and rechecks need a second pass), failing after a bounded number.
func syncUntilClean(t testing.TB, a *Agent) {
	t.Helper()
	var err error
	for range 5 {
		if err = a.Sync(context.Background(), "", false, io.Discard); err == nil {
			if err = a.Sync(context.Background(), "", true, io.Discard); err == nil {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not in sync after 5 passes: %v", err)
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 30s waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestPullInitialAndLiveChanges(t *testing.T) {
	s := startE2EServer(t)
	remote := filepath.Join(s.Home, "remote")
	putFile(t, filepath.Join(remote, "a.txt"), "alpha")
	putFile(t, filepath.Join(remote, "deep/er/ü n i c ö d e.txt"), "unicode and spaces")
	putFile(t, filepath.Join(remote, "empty"), "")
	os.MkdirAll(filepath.Join(remote, "emptydir/inner"), 0o755)
	for i := range 30 {
		putFile(t, filepath.Join(remote, "many", strings.Repeat("x", i%5+1)+string(rune('a'+i%26))+".txt"), strings.Repeat("y", i*333))
	}
	local := t.TempDir()
	putFile(t, filepath.Join(local, "local-only.txt"), "pull mirrors the remote, so this goes")
	a, _ := runAgentWithStatus(t, agentConfig(t, s, local, ModePull))
	waitSame(t, local, remote)

	fi, err := os.Stat(filepath.Join(local, "a.txt"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("downloaded file: %v, %v; want mode 0644", fi.Mode(), err)
	}
	rfi, _ := os.Stat(filepath.Join(remote, "a.txt"))
	if !fi.ModTime().Equal(rfi.ModTime().Truncate(time.Millisecond)) {
		t.Errorf("downloaded mtime %v, remote %v", fi.ModTime(), rfi.ModTime())
	}

	// Remote changes arrive with the next poll.
	putFile(t, filepath.Join(remote, "a.txt"), "alpha v2, longer")
	putFile(t, filepath.Join(remote, "new/dir/file.bin"), strings.Repeat("z", 70000))
	os.Remove(filepath.Join(remote, "empty"))
	os.Rename(filepath.Join(remote, "deep"), filepath.Join(remote, "moved"))
	os.RemoveAll(filepath.Join(remote, "emptydir"))
	waitSame(t, local, remote)

	// Local edits never travel up in pull; the mirror is put back.
	putFile(t, filepath.Join(local, "a.txt"), "local tamper")
	putFile(t, filepath.Join(local, "intruder.txt"), "local only")
	waitSame(t, local, remote)
	if st := a.Status()[0]; st.Uploaded != 0 || st.Downloaded == 0 {
		t.Errorf("status %+v: want downloads and no uploads in pull mode", st)
	}
}

func TestPullRefusesEmptiedOrMissingRemote(t *testing.T) {
	s := startE2EServer(t)
	remote := filepath.Join(s.Home, "remote")
	for i := range 20 {
		putFile(t, filepath.Join(remote, "f", string(rune('a'+i))+".txt"), "content")
	}
	local := t.TempDir()
	a := newSyncAgent(t, agentConfig(t, s, local, ModePull))
	syncUntilClean(t, a)
	if n := len(tree(t, filepath.Join(local, "f"))); n != 20 {
		t.Fatalf("pulled %d files, want 20", n)
	}

	// The server loses the files: the pass is refused, nothing local goes.
	os.RemoveAll(filepath.Join(remote, "f"))
	err := a.Sync(context.Background(), "", false, io.Discard)
	if !errors.Is(err, ErrTooManyDeletes) || !strings.Contains(err.Error(), "would delete 20 of 20 local files") {
		t.Fatalf("sync after the remote emptied: %v, want ErrTooManyDeletes naming the count", err)
	}
	if n := len(tree(t, filepath.Join(local, "f"))); n != 20 {
		t.Fatalf("local has %d files after the refused pass, want all 20", n)
	}

	// The remote folder itself vanishes (a wrong path, a lost disk).
	os.RemoveAll(remote)
	err = a.Sync(context.Background(), "", false, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "does not exist on the server") {
		t.Fatalf("sync with the remote folder gone: %v, want a refusal that says why", err)
	}
	if n := len(tree(t, filepath.Join(local, "f"))); n != 20 {
		t.Fatalf("local has %d files after the refused pass, want all 20", n)
	}
}

func TestPullSkipsNamesTheDiskCannotHold(t *testing.T) {
	s := startE2EServer(t)
	remote := filepath.Join(s.Home, "remote")
	putFile(t, filepath.Join(remote, "ok.txt"), "fine")
	putFile(t, filepath.Join(remote, "CON.txt"), "reserved on Windows")
	putFile(t, filepath.Join(remote, "what?.txt"), "bad character on Windows")
	putFile(t, filepath.Join(remote, "trailing.", "inside.txt"), "under a bad directory name")
	putFile(t, filepath.Join(remote, "Readme.md"), "one spelling")
	putFile(t, filepath.Join(remote, "README.md"), "another spelling")
	local := t.TempDir()
	a := newSyncAgent(t, agentConfig(t, s, local, ModePull))
	// Make this Linux disk play a Windows one: the rules are what is under
	// test, the disk just obeys them.
	folds := true
	a.folders[0].names.goos = "windows"
	a.folders[0].names.forced = &folds

	err := a.Sync(context.Background(), "", false, io.Discard)
	if !errors.Is(err, ErrNotInSync) {
		t.Fatalf("sync: %v, want ErrNotInSync listing the skipped paths", err)
	}
	for _, p := range []string{"CON.txt", "what?.txt", "trailing.", "Readme.md", "README.md"} {
		if !strings.Contains(err.Error(), p+": ") {
			t.Errorf("error does not report %q: %v", p, err)
		}
	}
	got := tree(t, local)
	want := map[string]string{"ok.txt": tree(t, remote)["ok.txt"]}
	if d := diffTrees(want, got); len(d) > 0 {
		t.Fatalf("local tree differs from the holdable subset:\n%s", strings.Join(d, "\n"))
	}
	if st := a.Status()[0]; len(st.Problems) != 5 {
		t.Errorf("status problems = %q, want the 5 skipped paths", st.Problems)
	}
}

func TestPullFromVsftpd(t *testing.T) {
	v := startVsftpd(t)
	remote := filepath.Join(v.Home, "remote")
	putFile(t, filepath.Join(remote, "a.txt"), "alpha")
	putFile(t, filepath.Join(remote, "sub/dir/b.bin"), strings.Repeat("b", 100_000))
	putFile(t, filepath.Join(remote, ".hidden"), "dot files too")
	os.MkdirAll(filepath.Join(remote, "emptydir"), 0o755)
	local := t.TempDir()
	cfg := agentConfig(t, &e2eServer{}, local, ModePull)
	cfg.Servers["srv"] = v.serverConfig()
	a, _ := runAgentWithStatus(t, cfg)
	waitSame(t, local, remote)

	// vsftpd lists with LIST (no MLSD, no HASH): changes are seen by size
	// and the listing's time, so the edit changes the size.
	putFile(t, filepath.Join(remote, "a.txt"), "alpha, edited on the server")
	putFile(t, filepath.Join(remote, "sub/new.txt"), "new")
	os.Remove(filepath.Join(remote, "sub/dir/b.bin"))
	waitSame(t, local, remote)
	if st := a.Status()[0]; st.Uploaded != 0 {
		t.Errorf("status %+v: pull uploaded", st)
	}
}
