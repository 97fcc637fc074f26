package vsftpd

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Server is vsftpd running as a child process in its own process group,
// so that stopping it ends the session processes it forked too. Stop may
// be called more than once, but not concurrently.
type Server struct {
	// Addr is the control address on 127.0.0.1.
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
	out  string // the file holding vsftpd's stdout and stderr
}

// Start writes c to dir/vsftpd.conf (on a free port when c.Port is zero),
// runs bin on it with its output in dir/output, and waits until it answers
// with a 220 greeting, it exits, or ctx ends; on failure it is stopped and
// the error carries what it wrote.
func Start(ctx context.Context, bin, dir string, c Config) (*Server, error) {
	if c.Port == 0 { // a port that was free a moment ago
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		c.Port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	conf := filepath.Join(dir, "vsftpd.conf")
	if err := c.WriteFile(conf); err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)), out: filepath.Join(dir, "output"), done: make(chan struct{})}
	out, err := os.Create(s.out)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	s.cmd = exec.Command(bin, conf)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	ownGroup(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start vsftpd: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	for !greets(s.Addr) {
		select {
		case <-s.done:
			return nil, fmt.Errorf("vsftpd exited at start: %s", s.Output())
		case <-ctx.Done():
			s.Stop()
			return nil, fmt.Errorf("vsftpd did not greet on %s: %v: %s", s.Addr, ctx.Err(), s.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return s, nil
}

// greets reports whether addr answers with a 220 greeting.
func greets(addr string) bool {
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

// Stop kills vsftpd and the sessions it forked, and waits (up to ten
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

// Output returns what vsftpd wrote to its stdout and stderr.
func (s *Server) Output() string {
	b, _ := os.ReadFile(s.out)
	return string(b)
}
