package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/testenv"
	"github.com/syncagent/syncagent/internal/testserver"
)

// fdLimit is the open-file limit the server runs under: enough to start
// and serve a few sessions, few enough that the test can use them all.
const fdLimit = 24

// TestRunSurvivesFileDescriptorExhaustion runs the real binary under a low
// RLIMIT_NOFILE (sh's ulimit -n, which sets the hard limit too, so Go
// cannot raise it) and opens connections until accept fails with "too many
// open files". The server must go on: once those connections close, a new
// one gets its greeting.
func TestRunSurvivesFileDescriptorExhaustion(t *testing.T) {
	sh := testenv.LookPath(t, "sh")
	dir := t.TempDir()
	addr := freePort(t)
	cfg := filepath.Join(dir, "server.yaml")
	if err := os.WriteFile(cfg, []byte(`listen: "`+addr+`"
root: "`+filepath.Join(dir, "root")+`"
passive_ports: ""
limits:
  max_connections: 500
  max_per_ip: 500
users:
  - name: alice
    password_hash: "`+testserver.Hash("pw")+`"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(sh, "-c", `ulimit -n `+strconv.Itoa(fdLimit)+` && exec "$0" run -config "$1"`, binary(t), cfg)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	logs := func() string { b, _ := os.ReadFile(logPath); return string(b) }

	first := greet(t, addr, 100)
	first.Close()

	// Each accepted connection holds one descriptor of the server; the
	// kernel completes more handshakes than the server can accept.
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 * fdLimit {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial while exhausting descriptors: %v\n%s", err, logs())
		}
		conns = append(conns, c)
	}
	for i := 0; !strings.Contains(logs(), "too many open files"); i++ {
		if i == 600 {
			t.Fatalf("the server never ran out of descriptors; logs:\n%s", logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil

	c := greet(t, addr, 600)
	c.Close()
	select {
	case err := <-exited:
		t.Fatalf("server exited: %v\n%s", err, logs())
	default:
	}
}

// greet dials addr until it gets a 220 greeting, trying at most tries
// times 50 ms apart.
func greet(t *testing.T, addr string, tries int) net.Conn {
	t.Helper()
	var last error
	for range tries {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			if rerr == nil && strings.HasPrefix(line, "220") {
				c.SetReadDeadline(time.Time{})
				return c
			}
			c.Close()
			err = rerr
			if rerr == nil {
				err = &net.AddrError{Err: "unexpected greeting " + strings.TrimSpace(line), Addr: addr}
			}
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no greeting from %s: %v", addr, last)
	return nil
}
