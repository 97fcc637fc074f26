package main

import (
	"bufio"
	"bytes"
	"context"
	"github.com/syncagent/syncagent/internal/testbin"
	"io"
	"net"
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

// binary is syncserver, built once per test binary.
func binary(t *testing.T) string {
	return testbin.Path(t, "github.com/syncagent/syncagent/cmd/syncserver")
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestPasswdPrintsAVerifiableHash(t *testing.T) {
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader("correct horse\n"), Stdout: &out, Stderr: &errb}
	if err := m.Run(context.Background(), []string{"passwd"}); err != nil {
		t.Fatalf("passwd: %v", err)
	}
	hash := strings.TrimSpace(out.String())
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse")) != nil {
		t.Fatalf("printed %q, which does not verify the password", hash)
	}
	for _, bad := range []string{"\n", "short\n", "7 chars\n", strings.Repeat("x", 73) + "\n"} {
		out.Reset()
		m = &Main{Stdin: strings.NewReader(bad), Stdout: &out, Stderr: &errb}
		if err := m.Run(context.Background(), []string{"passwd"}); err == nil || out.Len() > 0 {
			t.Errorf("password %q from stdin accepted: printed %q", bad, out.String())
		}
	}
}

func TestRunRefusesABadConfigNamingTheKey(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "server.yaml")
	os.WriteFile(cfg, []byte("listen: \"127.0.0.1:0\"\nroot: \"/tmp/x\"\nlimits:\n  max_per_ip: -3\n"), 0o600)
	cmd := exec.Command(binary(t), "run", "-config", cfg)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("run accepted a bad config:\n%s", out)
	}
	if !strings.Contains(string(out), "limits.max_per_ip") {
		t.Fatalf("error does not name the key:\n%s", out)
	}
}

// TestRunServesAndStopsGracefully runs the real binary: it serves a login
// and an upload, logs them without the password, and on SIGTERM lets the
// running upload finish before exiting 0.
func TestRunServesAndStopsGracefully(t *testing.T) {
	dir := t.TempDir()
	const password = "a-Very-secret-passw0rd"
	hash, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	addr := freePort(t)
	cfg := filepath.Join(dir, "server.yaml")
	os.WriteFile(cfg, []byte("listen: \""+addr+"\"\nroot: \""+filepath.Join(dir, "root")+
		"\"\npassive_ports: \"\"\nusers:\n  - name: alice\n    password_hash: \""+string(hash)+"\"\n"), 0o600)
	cmd := exec.Command(binary(t), "run", "-config", cfg)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logDone := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
		}
		close(logDone)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	var c *ftp.ServerConn
	var err error
	for range 100 { // bounded wait for the listener
		if c, err = ftp.Dial(addr, ftp.DialWithTimeout(5*time.Second)); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if err := c.Login("alice", password); err != nil {
		t.Fatalf("login: %v", err)
	}
	// An upload in flight when SIGTERM arrives completes.
	pr, pw := io.Pipe()
	stored := make(chan error, 1)
	go func() { stored <- c.Stor("big.bin", pr) }()
	pw.Write(bytes.Repeat([]byte("x"), 1<<20))
	time.Sleep(200 * time.Millisecond) // let the transfer start; correctness does not depend on it
	cmd.Process.Signal(syscall.SIGTERM)
	pw.Write(bytes.Repeat([]byte("y"), 1<<20))
	pw.Close()
	if err := <-stored; err != nil {
		t.Fatalf("upload during shutdown: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	<-logDone
	got, err := os.ReadFile(filepath.Join(dir, "root", "alice", "big.bin"))
	if err != nil || len(got) != 2<<20 {
		t.Fatalf("upload finished during shutdown is %d bytes (%v), want %d", len(got), err, 2<<20)
	}
	l := logs.String()
	for _, want := range []string{"session start", "login", "msg=transfer", "bytes=2097152", "stopped"} {
		if !strings.Contains(l, want) {
			t.Errorf("logs lack %q:\n%s", want, l)
		}
	}
	if strings.Contains(l, password) {
		t.Errorf("logs contain the password:\n%s", l)
	}
}
