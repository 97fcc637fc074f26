package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestRunLogsListeningOnlyOnceBound: with the control port taken the
// server exits 1 naming the address and never claims to be listening;
// with no users it starts, says "listening" once it is, and warns that
// nobody can log in.
func TestRunLogsListeningOnlyOnceBound(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "server.yaml")
	write := func(addr string) {
		os.WriteFile(cfg, []byte("listen: \""+addr+"\"\nroot: \""+filepath.Join(dir, "root")+"\"\npassive_ports: \"\"\n"), 0o600)
	}

	write(taken.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary(t), "run", "-config", cfg).CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || strings.Contains(string(out), "listening") || !strings.Contains(string(out), taken.Addr().String()) {
		t.Fatalf("run on a taken port: %v, want exit 1 naming the address and no \"listening\":\n%s", err, out)
	}

	addr := freePort(t)
	write(addr)
	cmd := exec.CommandContext(ctx, binary(t), "run", "-config", cfg)
	var logs lockedBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logs.String(), "no users"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no warning about the missing users:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "syncserver listening") {
		t.Errorf("no listening line:\n%s", logs.String())
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("logged listening, but dial: %v", err)
	}
	c.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for a child's output goroutine
// and the test reading it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
