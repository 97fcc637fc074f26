package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/syncagent/syncagent/internal/testbin"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/testserver"
	"github.com/syncagent/syncagent/server"
)

// Process tests of `syncagent sync`: the built binary, a real config file
// and a real syncserver on 127.0.0.1, checked by exit code, output and the
// files on the server's disk.

// syncagentBin is this command, built once per test binary.
func syncagentBin(t testing.TB) string {
	return testbin.Path(t, "github.com/syncagent/syncagent/cmd/syncagent")
}

const syncTestPassword = "sync-test-pass"

// startSyncServer runs a syncserver on 127.0.0.1:0 with the user "agent"
// and returns its address and the user's home on disk.
func startSyncServer(t testing.TB) (addr, home string) {
	return startSyncServerFor(t, "agent", syncTestPassword)
}

// startSyncServerFor runs a syncserver on 127.0.0.1:0 with one user, after
// each tweak has adjusted its config, and returns its address and the
// user's home on disk.
func startSyncServerFor(t testing.TB, user, password string, tweak ...func(*server.Config)) (addr, home string) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Root = t.TempDir()
	cfg.PassivePorts = ""
	cfg.Users = []server.UserConfig{{Name: user, PasswordHash: testserver.Hash(password), Home: user}}
	for _, f := range tweak {
		f(&cfg)
	}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	home = filepath.Join(cfg.Root, user)
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	return testserver.Start(t, srv, testserver.Options{}).Addr, home
}

// syncFolder is one folders: entry of a test config, pushed to /NAME.
type syncFolder struct{ name, path string }

// writeSyncConfig writes an agent config in dir (state beside it) and
// returns the file's path; extra is appended verbatim.
func writeSyncConfig(t testing.TB, dir, addr string, folders []syncFolder, extra string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "state: %q\nstatus_listen: \"\"\nservers:\n  srv: {address: %q, user: agent, password: %q, connections: 2}\nfolders:\n",
		filepath.Join(dir, "state.db"), addr, syncTestPassword)
	for _, f := range folders {
		fmt.Fprintf(&b, "  - {name: %s, path: %q, server: srv, remote: /%s, mode: push}\n", f.name, f.path, f.name)
	}
	b.WriteString(extra)
	p := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runSyncagent runs the binary with args (bounded) and returns its stdout,
// stderr and exit code.
func runSyncagent(t testing.TB, cmd *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		code = ee.ExitCode()
	default:
		t.Fatalf("run %v: %v\nstderr:\n%s", cmd.Args, err, errOut.String())
	}
	t.Logf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", cmd.Args[1:], code, out.String(), errOut.String())
	return out.String(), errOut.String(), code
}

// syncCmd is `syncagent sync -config cfg args...`, killed after two minutes.
func syncCmd(t testing.TB, cfg string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return exec.CommandContext(ctx, syncagentBin(t), append([]string{"sync", "-config", cfg}, args...)...)
}

// writeFiles writes name -> content below root.
func writeFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// wantFiles fails unless every name under root holds its content.
func wantFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if string(b) != content {
			t.Errorf("%s holds %q, want %q", name, b, content)
		}
	}
}

func TestSyncCommand(t *testing.T) {
	addr, home := startSyncServer(t)
	dir := t.TempDir()
	local := filepath.Join(dir, "docs")
	files := map[string]string{"a.txt": "alpha", "sub/b.txt": "beta"}
	writeFiles(t, local, files)
	cfg := writeSyncConfig(t, dir, addr, []syncFolder{{"docs", local}}, "")
	remote := filepath.Join(home, "docs")

	// A dry run on a folder with work to do plans it, each line after the
	// folder's name, exits 0 and changes nothing.
	out, _, code := runSyncagent(t, syncCmd(t, cfg, "-dry-run"))
	if code != 0 {
		t.Errorf("sync -dry-run with work pending exited %d, want 0", code)
	}
	for _, want := range []string{"docs: upload a.txt", "docs: upload sub/b.txt"} {
		if !strings.Contains(out, want) {
			t.Errorf("sync -dry-run did not print %q", want)
		}
	}
	if ents, err := os.ReadDir(home); err != nil || len(ents) != 0 {
		t.Fatalf("sync -dry-run changed the server: %v %v", ents, err)
	}

	// A real sync does the work and exits 0.
	if _, _, code := runSyncagent(t, syncCmd(t, cfg)); code != 0 {
		t.Fatalf("sync exited %d, want 0", code)
	}
	wantFiles(t, remote, files)

	// In sync: a dry run says there is nothing to do and exits 0.
	out, _, code = runSyncagent(t, syncCmd(t, cfg, "-dry-run"))
	if code != 0 || strings.TrimSpace(out) != "docs: nothing to do" {
		t.Errorf("sync -dry-run when in sync: exit %d, output %q; want 0 and \"docs: nothing to do\"", code, out)
	}

	// A local change: the dry run names it and leaves the server's copy alone.
	writeFiles(t, local, map[string]string{"a.txt": "alpha, edited"})
	out, _, code = runSyncagent(t, syncCmd(t, cfg, "-dry-run"))
	if code != 0 || strings.TrimSpace(out) != "docs: upload a.txt (changed locally)" {
		t.Errorf("sync -dry-run after an edit: exit %d, output %q; want 0 and \"docs: upload a.txt (changed locally)\"", code, out)
	}
	wantFiles(t, remote, files)
	if _, _, code := runSyncagent(t, syncCmd(t, cfg)); code != 0 {
		t.Fatalf("sync exited %d, want 0", code)
	}
	wantFiles(t, remote, map[string]string{"a.txt": "alpha, edited"})
}

func TestSyncCommandOneFolder(t *testing.T) {
	addr, home := startSyncServer(t)
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one"), filepath.Join(dir, "two")
	writeFiles(t, one, map[string]string{"1.txt": "one"})
	writeFiles(t, two, map[string]string{"2.txt": "two"})
	cfg := writeSyncConfig(t, dir, addr, []syncFolder{{"one", one}, {"two", two}}, "")

	if _, _, code := runSyncagent(t, syncCmd(t, cfg, "-folder", "two")); code != 0 {
		t.Fatalf("sync -folder two exited %d, want 0", code)
	}
	wantFiles(t, filepath.Join(home, "two"), map[string]string{"2.txt": "two"})
	if _, err := os.Stat(filepath.Join(home, "one")); !os.IsNotExist(err) {
		t.Errorf("sync -folder two touched folder one on the server (%v)", err)
	}
	// Folder one still has work to do; two has none.
	out, _, code := runSyncagent(t, syncCmd(t, cfg, "-dry-run"))
	if code != 0 || out != "one: upload 1.txt (changed locally)\ntwo: nothing to do\n" {
		t.Errorf("sync -dry-run of both folders: exit %d, output %q; want 0, folder one's upload and two's nothing to do", code, out)
	}

	_, stderr, code := runSyncagent(t, syncCmd(t, cfg, "-folder", "nosuch"))
	if code != 1 || !strings.Contains(stderr, `"nosuch"`) || !strings.Contains(stderr, "one, two") {
		t.Errorf("sync -folder nosuch: exit %d, stderr %q; want 1 naming it and the valid names", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(home, "one")); !os.IsNotExist(err) {
		t.Errorf("sync -folder nosuch touched the server (%v)", err)
	}
}

func TestSyncCommandRejectsUnknownKey(t *testing.T) {
	addr, home := startSyncServer(t)
	dir := t.TempDir()
	local := filepath.Join(dir, "docs")
	writeFiles(t, local, map[string]string{"a.txt": "alpha"})
	cfg := writeSyncConfig(t, dir, addr, []syncFolder{{"docs", local}}, "max_deletes: 3\n")

	_, stderr, code := runSyncagent(t, syncCmd(t, cfg))
	if code == 0 || !strings.Contains(stderr, "max_deletes") {
		t.Errorf("sync with an unknown key: exit %d, stderr %q; want non-zero naming max_deletes", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.db")); !os.IsNotExist(err) {
		t.Errorf("a rejected config created the state file (%v)", err)
	}
	if ents, err := os.ReadDir(home); err != nil || len(ents) != 0 {
		t.Errorf("a rejected config changed the server: %v %v", ents, err)
	}
}

// TestSyncDryRunWritesNoState runs sync -dry-run before any real sync:
// it prints the plan and leaves no state file behind.
func TestSyncDryRunWritesNoState(t *testing.T) {
	e := startVersionsEnv(t)
	if err := os.MkdirAll(e.local, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.local, "a.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(filepath.Dir(e.config), "state.db")
	out, err := e.run(t, "sync", "-dry-run", "-config", e.config)
	if err != nil && !strings.Contains(err.Error(), "not in sync") {
		t.Fatalf("sync -dry-run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "a.txt") {
		t.Errorf("the plan does not mention a.txt:\n%s", out)
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sync -dry-run left %s (stat: %v)", state, err)
	}
}
