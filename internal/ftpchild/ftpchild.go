// Package ftpchild runs an FTP server program (vsftpd, pure-ftpd, ProFTPD)
// as a child process in the foreground on 127.0.0.1: it picks a free port,
// starts the program in a process group of its own, waits until it greets,
// and kills the whole group at the end, so the session processes the server
// forked go with it. It knows nothing of any one server's configuration;
// packages vsftpd, pureftpd and proftpd do. Only tests and the benchmark
// harness import it.
package ftpchild

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Server is an FTP server running as a child process in its own process
// group. Stop may be called more than once, but not concurrently.
type Server struct {
	// Addr is the control address on 127.0.0.1.
	Addr string
	name string // the program's name, for errors
	cmd  *exec.Cmd
	done chan struct{}
	out  string // the file holding the program's stdout and stderr
}

// Port returns port and its address on 127.0.0.1; for port zero, a port
// that was free a moment ago.
func Port(port int) (int, string, error) {
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, "", err
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	return port, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// Start runs cmd (named name in errors) with its output in dir/output and
// waits until addr answers with a 220 greeting, the program exits, or ctx
// ends; on failure it is stopped and the error carries what it wrote.
func Start(ctx context.Context, name, dir, addr string, cmd *exec.Cmd) (*Server, error) {
	s := &Server{Addr: addr, name: name, cmd: cmd, out: filepath.Join(dir, "output"), done: make(chan struct{})}
	out, err := os.Create(s.out)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { cmd.Wait(); close(s.done) }()
	for !Greets(addr) {
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited at start: %s", name, s.Output())
		case <-ctx.Done():
			s.Stop()
			return nil, fmt.Errorf("%s did not greet on %s: %v: %s", name, addr, ctx.Err(), s.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return s, nil
}

// Greets reports whether addr answers with a 220 greeting.
func Greets(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	g := make([]byte, 3)
	_, err = io.ReadFull(c, g)
	return err == nil && string(g) == "220"
}

// Stop kills the server and the sessions it forked, and waits (up to ten
// seconds) for it to be gone.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	killGroup(s.cmd)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// Output returns what the server wrote to its stdout and stderr.
func (s *Server) Output() string {
	b, _ := os.ReadFile(s.out)
	return string(b)
}

// Find returns the server program to run: the path in the environment
// variable env when set, else name on PATH, else the first of places that
// exists (where a Debian package, or .ci/peers unpacking one beside a
// conflicting package, puts it off a normal user's PATH). It fails with
// fs.ErrNotExist when none is there.
func Find(env, name string, places ...string) (string, error) {
	if bin := os.Getenv(env); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s=%s: %w", env, bin, err)
		}
		return bin, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, p := range places {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed (not on PATH, nor in %s; %s names it): %w",
		name, strings.Join(places, ", "), env, fs.ErrNotExist)
}
