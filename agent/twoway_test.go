package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// ftpPut stores content at remotePath with a plain FTP client (not the
// agent's pool), as a third party editing the folder would.
func ftpPut(t testing.TB, addr, user, pass, remotePath, content string) {
	t.Helper()
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login(user, pass); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor(remotePath, strings.NewReader(content)); err != nil {
		t.Fatalf("STOR %s: %v", remotePath, err)
	}
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// conflictCopies lists the conflict copies of base name stem+ext in dir.
func conflictCopies(t testing.TB, dir, stem, ext string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, stem+".sync-conflict-*"+ext))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTwoWayTwoAgentsAndAnFTPClient(t *testing.T) {
	s := startE2EServer(t)
	remote := filepath.Join(s.Home, "remote")
	a, b := t.TempDir(), t.TempDir()
	putFile(t, filepath.Join(a, "from-a.txt"), "written by A before start")
	putFile(t, filepath.Join(b, "from-b/nested.txt"), "written by B before start")
	runAgentWithStatus(t, agentConfig(t, s, a, ModeTwoWay))
	runAgentWithStatus(t, agentConfig(t, s, b, ModeTwoWay))
	waitSame(t, a, remote)
	waitSame(t, b, remote)

	putFile(t, filepath.Join(a, "live/a.txt"), "A edits live")
	putFile(t, filepath.Join(b, "from-a.txt"), "B edits A's file, longer")
	ftpPut(t, s.Addr, "agent", e2ePassword, "/remote/from-ftp.txt", "a plain FTP client was here")
	waitUntil(t, "every change on every side", func() bool {
		ta := tree(t, a)
		return ta["live/a.txt"] != "" && ta["from-ftp.txt"] != "" &&
			len(diffTrees(ta, tree(t, b))) == 0 && len(diffTrees(ta, tree(t, remote))) == 0 &&
			readFile(t, filepath.Join(a, "from-a.txt")) == "B edits A's file, longer"
	})

	// Deletes travel too, from an agent and from the FTP client's side.
	os.Remove(filepath.Join(a, "live/a.txt"))
	os.Remove(filepath.Join(remote, "from-ftp.txt"))
	waitUntil(t, "deletes on every side", func() bool {
		ta, tb := tree(t, a), tree(t, b)
		_, x1 := tb["live/a.txt"]
		_, x2 := ta["from-ftp.txt"]
		_, x3 := tb["from-ftp.txt"]
		return !x1 && !x2 && !x3 && len(diffTrees(ta, tb)) == 0 && len(diffTrees(ta, tree(t, remote))) == 0
	})
}

func TestTwoWayOfflineEditsOnBothSides(t *testing.T) {
	s := startE2EServer(t)
	remote := filepath.Join(s.Home, "remote")
	local := t.TempDir()
	for _, f := range []string{"local-edit.txt", "remote-edit.txt", "both.txt", "del-local-edit-remote.txt",
		"del-remote-edit-local.txt", "same.txt", "d/one.txt", "d/two.txt"} {
		putFile(t, filepath.Join(local, f), "original "+f)
	}
	a := newSyncAgent(t, agentConfig(t, s, local, ModeTwoWay))
	syncUntilClean(t, a)
	waitSame(t, local, remote)

	// Both sides change while the agent is away.
	putFile(t, filepath.Join(local, "local-edit.txt"), "edited locally")
	putFile(t, filepath.Join(remote, "remote-edit.txt"), "edited remotely")
	putFile(t, filepath.Join(local, "both.txt"), "the local side's edit")
	putFile(t, filepath.Join(remote, "both.txt"), "the remote side's much longer edit")
	os.Remove(filepath.Join(local, "del-local-edit-remote.txt"))
	putFile(t, filepath.Join(remote, "del-local-edit-remote.txt"), "remote edit beats a local delete")
	os.Remove(filepath.Join(remote, "del-remote-edit-local.txt"))
	putFile(t, filepath.Join(local, "del-remote-edit-local.txt"), "local edit beats a remote delete")
	putFile(t, filepath.Join(local, "same.txt"), "identical edit")
	putFile(t, filepath.Join(remote, "same.txt"), "identical edit")
	// A remote directory replaced by a file.
	os.RemoveAll(filepath.Join(remote, "d"))
	putFile(t, filepath.Join(remote, "d"), "d is a file now")

	syncUntilClean(t, a)
	waitSame(t, local, remote)
	want := map[string]string{
		"local-edit.txt":            "edited locally",
		"remote-edit.txt":           "edited remotely",
		"both.txt":                  "the remote side's much longer edit",
		"del-local-edit-remote.txt": "remote edit beats a local delete",
		"del-remote-edit-local.txt": "local edit beats a remote delete",
		"same.txt":                  "identical edit",
		"d":                         "d is a file now",
	}
	for p, w := range want {
		if got := readFile(t, filepath.Join(local, p)); got != w {
			t.Errorf("%s = %q, want %q", p, got, w)
		}
	}
	copies := conflictCopies(t, local, "both", ".txt")
	if len(copies) != 1 || readFile(t, copies[0]) != "the local side's edit" {
		t.Fatalf("conflict copies of both.txt: %v, want one holding the local edit", copies)
	}
	if n := len(conflictCopies(t, local, "same", ".txt")); n != 0 {
		t.Errorf("identical edits made %d conflict copies, want none", n)
	}
	if st := a.Status()[0]; st.Conflicts != 1 {
		t.Errorf("status conflicts = %d, want 1", st.Conflicts)
	}
	if n := len(tree(t, local)); n != len(want)+1 {
		t.Errorf("local tree has %d entries, want %d: %v", n, len(want)+1, tree(t, local))
	}
}

func TestTwoWayRefusesEmptiedRemote(t *testing.T) {
	s := startE2EServer(t)
	remote := filepath.Join(s.Home, "remote")
	local := t.TempDir()
	for i := range 20 {
		putFile(t, filepath.Join(local, "f", fmt.Sprintf("%02d.txt", i)), "content")
	}
	a := newSyncAgent(t, agentConfig(t, s, local, ModeTwoWay))
	syncUntilClean(t, a)
	waitSame(t, local, remote)

	os.RemoveAll(filepath.Join(remote, "f"))
	err := a.Sync(context.Background(), "", false, io.Discard)
	if !errors.Is(err, ErrTooManyDeletes) {
		t.Fatalf("sync after the remote emptied: %v, want ErrTooManyDeletes", err)
	}
	if n := len(tree(t, filepath.Join(local, "f"))); n != 20 {
		t.Fatalf("local has %d files after the refused pass, want all 20", n)
	}
	os.RemoveAll(remote)
	err = a.Sync(context.Background(), "", false, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "does not exist on the server") {
		t.Fatalf("sync with the remote folder gone: %v, want a refusal that says why", err)
	}
	if n := len(tree(t, filepath.Join(local, "f"))); n != 20 {
		t.Fatalf("local has %d files after the refused pass, want all 20", n)
	}
}

// TestTwoWayTwoRealProcesses runs two `syncagent run` processes built from
// ./cmd/syncagent against one server.
func TestTwoWayTwoRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/syncagent")
	}
	bin := syncagentBinary(t)
	s := startE2EServer(t)
	remote := filepath.Join(s.Home, "remote")
	dirs := []string{t.TempDir(), t.TempDir()}
	putFile(t, filepath.Join(dirs[0], "first.txt"), "from process one")
	for i, dir := range dirs {
		conf := filepath.Join(t.TempDir(), "agent.yaml")
		yaml := fmt.Sprintf(`state: %q
status_listen: ""
servers:
  srv:
    address: %q
    user: agent
    password: %q
    connections: 2
folders:
  - name: f
    path: %q
    server: srv
    remote: /remote
    mode: two-way
    debounce: 20ms
    poll: 300ms
`, filepath.Join(t.TempDir(), "state.db"), s.Addr, e2ePassword, dir)
		if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		startProcess(t, fmt.Sprintf("agent%d", i+1), bin, "run", "-config", conf)
	}
	waitSame(t, dirs[0], remote)
	waitSame(t, dirs[1], remote)
	putFile(t, filepath.Join(dirs[1], "sub/second.txt"), "from process two")
	putFile(t, filepath.Join(dirs[0], "first.txt"), "edited by process one")
	waitUntil(t, "both processes' changes everywhere", func() bool {
		t1 := tree(t, dirs[0])
		return t1["sub/second.txt"] != "" && readFile(t, filepath.Join(dirs[1], "first.txt")) == "edited by process one" &&
			len(diffTrees(t1, tree(t, dirs[1]))) == 0 && len(diffTrees(t1, tree(t, remote))) == 0
	})
}

// startProcess runs a command until the test ends, then stops it with
// SIGTERM (SIGKILL if it does not exit in time) and logs its output.
func startProcess(t testing.TB, name, bin string, args ...string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		var err error
		select {
		case err = <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			err = <-done
		}
		if err != nil || t.Failed() {
			t.Logf("%s exited: %v\n%s", name, err, out.String())
		}
		if err != nil {
			t.Errorf("%s did not stop cleanly on SIGTERM: %v", name, err)
		}
	})
}
