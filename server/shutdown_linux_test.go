package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShutdownHonoursDeadlineWhileHashing has a session hash a 512 MiB
// sparse file (a second or more of SHA-256) and shuts the server down with a 50 ms
// deadline: Shutdown returns the deadline's error while the hash still
// holds the file open, rather than waiting for the session.
func TestShutdownHonoursDeadlineWhileHashing(t *testing.T) {
	ts := startServer(t, testConfig(t))
	big := filepath.Join(ts.Root, "alice", "big.bin")
	if err := os.MkdirAll(filepath.Dir(big), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(512 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	c, err := net.DialTimeout("tcp", ts.Addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	expect := func(code string) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, code) {
			t.Fatalf("want %s, got %q, %v", code, line, err)
		}
	}
	expect("220")
	fmt.Fprintf(c, "USER alice\r\n")
	expect("331")
	fmt.Fprintf(c, "PASS %s\r\n", testPassword)
	expect("230")
	fmt.Fprintf(c, "HASH big.bin\r\n")
	for i := 0; !openHere(big); i++ {
		if i == 600 {
			t.Fatal("the server never opened the file to hash it")
		}
		time.Sleep(10 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = ts.Shutdown(ctx)
	hashing := openHere(big)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the context's deadline error", err)
	}
	if !hashing {
		t.Error("Shutdown returned only after the session finished hashing: it waited past its deadline")
	}
	// Let the hash end before the file goes away with the test.
	ts.Close()
}

// openHere reports whether this process has path open.
func openHere(path string) bool {
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == path {
			return true
		}
	}
	return false
}
