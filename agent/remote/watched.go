package remote

import (
	"net"
	"sync"
	"time"
)

// watchedConn is a net.Conn whose every Read and Write must make progress
// within timeout, and which its owner can close from another goroutine to
// abort whatever is blocked on it. jlaffaye/ftp sets no deadlines of its
// own, so this is what turns a server that stops answering into an error.
type watchedConn struct {
	net.Conn
	timeout time.Duration
	onClose func(*watchedConn)
	once    sync.Once
}

func (c *watchedConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *watchedConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *watchedConn) Close() error {
	c.once.Do(func() {
		if c.onClose != nil {
			c.onClose(c)
		}
	})
	return c.Conn.Close()
}

// connSet tracks the live network connections of one pooled connection
// (control channels and data channels) so that all of them can be closed
// at once when an operation is cancelled or the connection is dropped.
type connSet struct {
	mu     sync.Mutex
	conns  map[*watchedConn]struct{}
	killed bool
}

// watch wraps c and registers it; if the set was already killed, c is
// closed at once.
func (s *connSet) watch(c net.Conn, timeout time.Duration) *watchedConn {
	w := &watchedConn{Conn: c, timeout: timeout, onClose: s.forget}
	s.mu.Lock()
	if s.conns == nil {
		s.conns = make(map[*watchedConn]struct{})
	}
	killed := s.killed
	if !killed {
		s.conns[w] = struct{}{}
	}
	s.mu.Unlock()
	if killed {
		c.Close()
	}
	return w
}

func (s *connSet) forget(w *watchedConn) {
	s.mu.Lock()
	delete(s.conns, w)
	s.mu.Unlock()
}

// kill closes every registered connection and any registered later.
func (s *connSet) kill() {
	s.mu.Lock()
	s.killed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for w := range conns {
		w.Conn.Close()
	}
}
