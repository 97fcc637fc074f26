package testserver

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// greeter is a Server that greets every connection with "220" and closes
// it, and records how it was stopped. Like server.Server, it closes a
// listener it is given after it was stopped.
type greeter struct {
	mu       sync.Mutex
	lns      []net.Listener
	stopped  bool
	shutdown bool
	closed   bool
}

func (g *greeter) serve(ln net.Listener) error {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return ln.Close()
	}
	g.lns = append(g.lns, ln)
	g.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		c.Write([]byte("220 hi\r\n"))
		c.Close()
	}
}

func (g *greeter) Serve(ln net.Listener) error            { return g.serve(ln) }
func (g *greeter) ServeImplicitTLS(ln net.Listener) error { return g.serve(ln) }

func (g *greeter) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	for _, ln := range g.lns {
		ln.Close()
	}
}

func (g *greeter) Shutdown(context.Context) error { g.shutdown = true; g.stop(); return nil }
func (g *greeter) Close() error                   { g.closed = true; g.stop(); return nil }

func greets(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	b := make([]byte, 3)
	_, err = c.Read(b)
	return err == nil && string(b) == "220"
}

func TestStopRestartCleanup(t *testing.T) {
	first, second := new(greeter), new(greeter)
	t.Run("run", func(t *testing.T) {
		r := Start(t, first, Options{ImplicitTLS: true})
		if !greets(t, r.Addr) || !greets(t, r.ImplicitAddr) {
			t.Fatalf("no greeting on %s and %s", r.Addr, r.ImplicitAddr)
		}
		addr, implicit := r.Addr, r.ImplicitAddr
		r.Stop()
		if !first.closed || greets(t, addr) {
			t.Fatalf("Stop did not close the server")
		}
		r.Stop() // a second Stop does nothing
		r.Restart(second)
		if r.Addr != addr || r.ImplicitAddr != implicit {
			t.Fatalf("restarted on %s and %s, not %s and %s", r.Addr, r.ImplicitAddr, addr, implicit)
		}
		if !greets(t, addr) || !greets(t, implicit) {
			t.Fatalf("the restarted server does not greet")
		}
	})
	if first.shutdown || !second.shutdown || second.closed {
		t.Errorf("at cleanup: first shut down %v, second shut down %v, closed %v; want only the running one shut down gracefully",
			first.shutdown, second.shutdown, second.closed)
	}
}

func TestStartWithoutImplicitTLS(t *testing.T) {
	r := Start(t, new(greeter), Options{})
	if r.ImplicitAddr != "" {
		t.Errorf("ImplicitAddr = %q without Options.ImplicitTLS", r.ImplicitAddr)
	}
}

func TestHash(t *testing.T) {
	h := Hash("pw")
	if Hash("pw") != h {
		t.Errorf("Hash made a second hash for the same password")
	}
	if err := bcrypt.CompareHashAndPassword([]byte(h), []byte("pw")); err != nil {
		t.Errorf("Hash(pw) does not match pw: %v", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(Hash("other")), []byte("pw")) == nil {
		t.Errorf("Hash(other) matches pw")
	}
}
