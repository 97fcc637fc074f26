//go:build unix

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGHUPReloadsFolders runs the real binary with two folders: after
// SIGHUP with folder two's remote changed and a folder three added, two
// and three sync to their new places while folder one was never
// restarted and keeps syncing; a bad config is then refused with its
// reason logged, and folder one keeps syncing.
func TestSIGHUPReloadsFolders(t *testing.T) {
	addr, home := startSyncServer(t)
	dir := t.TempDir()
	one, two, three := filepath.Join(dir, "one"), filepath.Join(dir, "two"), filepath.Join(dir, "three")
	writeFiles(t, one, map[string]string{"1.txt": "one"})
	writeFiles(t, two, map[string]string{"2.txt": "two"})
	writeFiles(t, three, map[string]string{"3.txt": "three"})
	cfg := writeSyncConfig(t, dir, addr, []syncFolder{{"one", one}, {"two", two}}, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, syncagentBin(t), "run", "-config", cfg)
	var logs syncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	onServer := func(rel, want string) func() bool {
		return func() bool {
			b, err := os.ReadFile(filepath.Join(home, filepath.FromSlash(rel)))
			return err == nil && string(b) == want
		}
	}
	waitFor(t, "folders one and two on the server", func() bool { return onServer("one/1.txt", "one")() && onServer("two/2.txt", "two")() })

	b, _ := os.ReadFile(cfg)
	yaml := strings.Replace(string(b), "remote: /two,", "remote: /two-b,", 1) +
		"  - {name: three, path: \"" + three + "\", server: srv, remote: /three, mode: push}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", func() bool { return strings.Contains(logs.String(), "config reloaded") })
	if l := logs.String(); !strings.Contains(l, "started=two,three") || !strings.Contains(l, "stopped=two ") {
		t.Errorf("the reload restarted other folders than two and three:\n%s", l)
	}
	waitFor(t, "two and three at their new places", func() bool { return onServer("two-b/2.txt", "two")() && onServer("three/3.txt", "three")() })
	writeFiles(t, one, map[string]string{"1b.txt": "still running"})
	waitFor(t, "folder one still syncing", onServer("one/1b.txt", "still running"))

	os.WriteFile(cfg, []byte(yaml+"bogus_key: 1\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the refusal", func() bool { return strings.Contains(logs.String(), "config reload refused") })
	if !strings.Contains(logs.String(), "bogus_key") {
		t.Errorf("the refusal does not name the key:\n%s", logs.String())
	}
	writeFiles(t, one, map[string]string{"1c.txt": "after the refusal"})
	waitFor(t, "folder one syncing after the refusal", onServer("one/1c.txt", "after the refusal"))
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, logs.String())
	}
}
