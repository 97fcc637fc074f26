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

	"github.com/jlaffaye/ftp"
	"golang.org/x/crypto/bcrypt"
)

// TestSIGHUPReloadsUsers runs the real binary: after SIGHUP a user added
// to the file logs in while a session from before keeps working; a bad
// file is refused with its reason logged, and the running users stay.
func TestSIGHUPReloadsUsers(t *testing.T) {
	dir := t.TempDir()
	const password = "a-Very-secret-passw0rd"
	hash, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	addr := freePort(t)
	cfg := filepath.Join(dir, "server.yaml")
	write := func(users, extra string) {
		os.WriteFile(cfg, []byte("listen: \""+addr+"\"\nroot: \""+filepath.Join(dir, "root")+"\"\npassive_ports: \"\"\n"+extra+"users:\n"+users), 0o600)
	}
	user := func(name string) string {
		return "  - name: " + name + "\n    password_hash: \"" + string(hash) + "\"\n"
	}
	write(user("alice"), "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), "run", "-config", cfg)
	var logs lockedBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitLog := func(want string, n int) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); strings.Count(logs.String(), want) < n; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the log never said %q %d times:\n%s", want, n, logs.String())
			}
		}
	}
	login := func(name string) (*ftp.ServerConn, error) {
		c, err := ftp.Dial(addr, ftp.DialWithTimeout(5*time.Second))
		if err != nil {
			return nil, err
		}
		if err := c.Login(name, password); err != nil {
			c.Quit()
			return nil, err
		}
		return c, nil
	}
	waitLog("syncserver listening", 1)
	alice, err := login("alice")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Quit()
	if c, err := login("bob"); err == nil {
		c.Quit()
		t.Fatal("bob logs in before he is in the config")
	}

	write(user("alice")+user("bob"), "")
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("config reloaded", 1)
	bob, err := login("bob")
	if err != nil {
		t.Fatalf("bob after the reload: %v", err)
	}
	bob.Quit()
	if err := alice.Stor("still.txt", strings.NewReader("here")); err != nil {
		t.Errorf("alice's session from before the reload: %v", err)
	}

	write(user("alice")+user("bob"), "limits:\n  max_per_ip: -3\n")
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("config reload refused", 1)
	if !strings.Contains(logs.String(), "limits.max_per_ip") {
		t.Errorf("the refusal does not name the key:\n%s", logs.String())
	}
	if bob, err := login("bob"); err != nil {
		t.Errorf("bob after a refused reload: %v", err)
	} else {
		bob.Quit()
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, logs.String())
	}
}
