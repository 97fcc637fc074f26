//go:build unix

package main

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/syncagent/syncagent/internal/testenv"
)

// TestSyncUnreadableFile runs `syncagent sync` as the user nobody over a
// folder holding one file only root may read: the sync must report that
// file by path and exit 1, while every other file reaches the server; once
// the file is readable, the next sync sends it and exits 0.
func TestSyncUnreadableFile(t *testing.T) {
	testenv.NeedRoot(t, "it runs the agent as nobody over a file only root may read")
	nobody, err := user.Lookup("nobody")
	if err != nil {
		testenv.Missing(t, "needs a nobody user to run the agent as: %v", err)
	}
	uid, err1 := strconv.ParseUint(nobody.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(nobody.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		t.Skipf("nobody has no numeric uid/gid (%s/%s)", nobody.Uid, nobody.Gid)
	}
	bin := syncagentBin(t)
	addr, home := startSyncServer(t)

	// t.TempDir's parents are private to root: build the agent's world
	// where nobody can reach it.
	base, err := os.MkdirTemp("", "syncagent-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(base, "state")
	if err := os.Mkdir(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(stateDir, int(uid), int(gid)); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(base, "docs")
	readable := map[string]string{"a.txt": "alpha", "sub/b.txt": "beta", "z.txt": "zeta"}
	writeFiles(t, local, readable)
	secret := filepath.Join(local, "sub", "secret.txt")
	writeFiles(t, local, map[string]string{"sub/secret.txt": "root only"})
	if err := os.Chmod(secret, 0); err != nil {
		t.Fatal(err)
	}
	// A directory nobody may list: its files are unknown, neither sent nor
	// taken as deleted.
	writeFiles(t, local, map[string]string{"locked/c.txt": "behind a locked door"})
	locked := filepath.Join(local, "locked")
	if err := os.Chmod(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := writeSyncConfig(t, stateDir, addr, []syncFolder{{"docs", local}}, "")
	if err := os.Chmod(cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	asNobody := func() *exec.Cmd {
		cmd := syncCmd(t, cfg)
		cmd.Path = bin
		cmd.Dir = base
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + base}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		return cmd
	}
	remote := filepath.Join(home, "docs")

	_, stderr, code := runSyncagent(t, asNobody())
	if code != 1 {
		t.Errorf("sync with an unreadable file exited %d, want 1", code)
	}
	for _, p := range []string{"sub/secret.txt", "locked"} {
		if !strings.Contains(stderr, p) {
			t.Errorf("sync did not name the unreadable %s; stderr:\n%s", p, stderr)
		}
	}
	// The credential took: the state database belongs to nobody.
	if fi, err := os.Stat(filepath.Join(stateDir, "state.db")); err != nil {
		t.Errorf("no state database: %v", err)
	} else if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != uint32(uid) {
		t.Errorf("the state database belongs to uid %d, not nobody: the agent did not run as nobody", st.Uid)
	}
	wantFiles(t, remote, readable)
	for _, p := range []string{"sub/secret.txt", "locked/c.txt"} {
		if _, err := os.Stat(filepath.Join(remote, filepath.FromSlash(p))); !os.IsNotExist(err) {
			t.Errorf("the unreadable %s is on the server (%v)", p, err)
		}
	}

	if err := os.Chmod(secret, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(locked, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, code := runSyncagent(t, asNobody()); code != 0 {
		t.Fatalf("sync once the file is readable exited %d, want 0", code)
	}
	wantFiles(t, remote, map[string]string{"sub/secret.txt": "root only", "locked/c.txt": "behind a locked door"})
	wantFiles(t, remote, readable)
}
