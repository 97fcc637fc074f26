//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the master the test types into
// and reads from, and the terminal the command gets as its stdin.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the terminal: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// waitScreen waits (bounded) until the screen shows want n times.
func waitScreen(t *testing.T, s *lockedBuffer, want string, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Count(s.String(), want) >= n {
			return
		}
	}
	t.Fatalf("the terminal never showed %q %d times; it shows %q", want, n, s.String())
}

// waitEchoOff waits until the program has turned the terminal's echo off:
// it prints its prompt just before, so an answer typed on seeing the
// prompt could otherwise arrive while echo is still on (a fast typist's
// race the test must not stand in for). A master's termios requests act
// on its terminal's settings.
func waitEchoOff(t *testing.T, master *os.File) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		tio, err := unix.IoctlGetTermios(int(master.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatalf("read the terminal's settings: %v", err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
	}
	t.Fatal("the terminal's echo never went off")
}

// runPasswdOnTTY runs `syncserver passwd` on a real terminal and types
// each answer after each prompt it expects. It returns stdout, what the
// terminal showed, and the exit error.
func runPasswdOnTTY(t *testing.T, prompts []string, answers []string) (string, string, error) {
	master, tty := openPTY(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), "passwd")
	var stdout bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &stdout, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var scr lockedBuffer
	copied := make(chan struct{})
	go func() {
		buf := make([]byte, 512)
		for {
			n, err := master.Read(buf)
			scr.Write(buf[:n])
			if err != nil {
				close(copied)
				return
			}
		}
	}()
	seen := map[string]int{}
	for i, p := range prompts {
		seen[p]++
		waitScreen(t, &scr, p, seen[p])
		waitEchoOff(t, master)
		if _, err := master.Write([]byte(answers[i] + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	err := cmd.Wait()
	<-copied
	return stdout.String(), scr.String(), err
}

// TestPasswdOnATerminal: on a terminal passwd asks twice without echo and
// prints a hash of the password only when both answers match and it is
// long enough.
func TestPasswdOnATerminal(t *testing.T) {
	const pw = "a long passphrase"
	out, shown, err := runPasswdOnTTY(t, []string{"Password: ", "Again: "}, []string{pw, pw})
	if err != nil {
		t.Fatalf("passwd: %v\n%s", err, shown)
	}
	if bcrypt.CompareHashAndPassword([]byte(strings.TrimSpace(out)), []byte(pw)) != nil {
		t.Errorf("printed %q, which does not verify the password", out)
	}
	if strings.Contains(shown, "passphrase") {
		t.Errorf("the terminal echoed the password: %q", shown)
	}

	out, shown, err = runPasswdOnTTY(t, []string{"Password: ", "Again: "}, []string{pw, pw + "!"})
	if err == nil || out != "" || !strings.Contains(shown, "differ") {
		t.Errorf("two different answers: %v, printed %q, terminal %q; want a refusal", err, out, shown)
	}

	out, shown, err = runPasswdOnTTY(t, []string{"Password: "}, []string{"short"})
	if err == nil || out != "" || !strings.Contains(shown, "shorter than 8") {
		t.Errorf("a 5-character password: %v, printed %q, terminal %q; want a refusal", err, out, shown)
	}
}
