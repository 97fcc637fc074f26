package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
	"github.com/syncagent/syncagent/server"
)

// versionsEnv is a real syncserver on 127.0.0.1 with the user "alice",
// an agent config naming it "backup" with the folder /docs synced to a
// local directory, and an FTP client to make versions with.
type versionsEnv struct {
	config string // agent config file
	local  string // the synced folder of /docs
	home   string // alice's home on the server
	ftp    *ftp.ServerConn
}

func startVersionsEnv(t *testing.T) *versionsEnv {
	t.Helper()
	addr, home := startSyncServerFor(t, "alice", "secret", func(cfg *server.Config) { cfg.Versions.Keep = 10 })
	dir := t.TempDir()
	e := &versionsEnv{config: filepath.Join(dir, "agent.yaml"), local: filepath.Join(dir, "Documents"), home: home}
	yaml := fmt.Sprintf(`state: %q
status_listen: ""
servers:
  backup:
    address: %q
    user: alice
    password: secret
folders:
  - name: docs
    path: %q
    server: backup
    remote: /docs
    mode: push
`, filepath.Join(dir, "state.db"), addr, e.local)
	if err := os.WriteFile(e.config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("alice", "secret"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Quit() })
	e.ftp = c
	return e
}

func (e *versionsEnv) put(t *testing.T, p, content string) {
	t.Helper()
	if err := e.ftp.Stor(p, strings.NewReader(content)); err != nil {
		t.Fatalf("STOR %s: %v", p, err)
	}
}

// mark returns a time between what was written before and what comes next
// (version names carry milliseconds).
func mark() time.Time {
	time.Sleep(3 * time.Millisecond)
	m := time.Now()
	time.Sleep(3 * time.Millisecond)
	return m
}

func (e *versionsEnv) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := m.Run(ctx, args)
	if errOut.Len() > 0 {
		t.Logf("stderr of %v:\n%s", args, errOut.String())
	}
	return out.String(), err
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVersionsAndRestoreCommands(t *testing.T) {
	e := startVersionsEnv(t)
	e.ftp.MakeDir("/docs")
	e.put(t, "/docs/a.txt", "one")
	m1 := mark()
	e.put(t, "/docs/a.txt", "two!")
	m2 := mark()
	e.put(t, "/docs/a.txt", "three")

	out, err := e.run(t, "versions", "-config", e.config, "-server", "backup", "/docs/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "CURRENT UNTIL") || !strings.HasSuffix(strings.TrimSpace(lines[1]), " 3") ||
		!strings.HasSuffix(strings.TrimSpace(lines[2]), " 4") {
		t.Fatalf("versions output:\n%s", out)
	}
	// Each listed time is one -at accepts.
	until, err := time.Parse(time.RFC3339Nano, strings.Fields(lines[1])[0])
	if err != nil || !until.After(m1) || !until.Before(m2) {
		t.Fatalf("listed time %q (%v) not between the marks", strings.Fields(lines[1])[0], err)
	}
	if out, err := e.run(t, "versions", "-config", e.config, "-server", "backup", "/docs/none.txt"); err != nil || !strings.Contains(out, "no old versions") {
		t.Fatalf("versions of a file without any: %q, %v", out, err)
	}

	// To an explicit path, by RFC 3339 time.
	dst := filepath.Join(t.TempDir(), "out.txt")
	if _, err := e.run(t, "restore", "-config", e.config, "-server", "backup", "-at", m1.Format(time.RFC3339Nano), "/docs/a.txt", dst); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, dst); got != "one" {
		t.Errorf("restore -at m1 = %q, want one", got)
	}
	// To its place in the synced folder, the newest old version.
	if _, err := e.run(t, "restore", "-config", e.config, "-server", "backup", "/docs/a.txt"); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, filepath.Join(e.local, "a.txt")); got != "two!" {
		t.Errorf("restore without -at = %q, want two!", got)
	}
	// A duration ago that reaches past the newest version: the current content.
	out, err = e.run(t, "restore", "-config", e.config, "-server", "backup", "-at", "0s", "/docs/a.txt", dst)
	if err != nil || readString(t, dst) != "three" || !strings.Contains(out, "current content") {
		t.Errorf("restore -at 0s: %q, %v, %q", readString(t, dst), err, out)
	}

	// A whole directory, including a file deleted since.
	e.put(t, "/docs/b.txt", "b good")
	at := mark()
	e.put(t, "/docs/b.txt", "b bad")
	if err := e.ftp.Delete("/docs/a.txt"); err != nil {
		t.Fatal(err)
	}
	treeDst := t.TempDir()
	out, err = e.run(t, "restore", "-config", e.config, "-server", "backup", "-at", at.Format(time.RFC3339Nano), "/docs", treeDst)
	if err != nil {
		t.Fatal(err)
	}
	if readString(t, filepath.Join(treeDst, "a.txt")) != "three" || readString(t, filepath.Join(treeDst, "b.txt")) != "b good" {
		t.Errorf("directory restore:\n%s", out)
	}
	if !strings.Contains(out, "restored 2 files") {
		t.Errorf("summary missing:\n%s", out)
	}
	// The server keeps no renames, and the restore says so.
	if !strings.Contains(out, "no record of renames") {
		t.Errorf("restore -at does not say that renames are not followed:\n%s", out)
	}
}

func TestRestoreCommandErrors(t *testing.T) {
	e := startVersionsEnv(t)
	for _, args := range [][]string{
		{"restore", "-config", e.config, "/docs/a.txt"},                                           // no -server
		{"restore", "-config", e.config, "-server", "nosuch", "/docs/a.txt"},                      // unknown server
		{"restore", "-config", e.config, "-server", "backup", "docs/a.txt"},                       // relative path
		{"restore", "-config", e.config, "-server", "backup", "-at", "someday", "/docs/a"},        // bad time
		{"restore", "-config", e.config, "-server", "backup", "/docs/never.txt"},                  // nothing there
		{"restore", "-config", e.config, "-server", "backup"},                                     // no path
		{"versions", "-config", e.config, "-server", "backup"},                                    // no path
		{"versions", "-config", e.config, "-server", "backup", "/a", "/b"},                        // two paths
		{"versions", "-config", filepath.Join(t.TempDir(), "missing.yaml"), "-server", "x", "/a"}, // no config
	} {
		if out, err := e.run(t, args...); err == nil {
			t.Errorf("%v succeeded: %s", args, out)
		}
	}
}
