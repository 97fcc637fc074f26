// Package testserver runs an FTP server for a test on 127.0.0.1: it
// listens on a free port (and a second one for implicit TLS when asked),
// serves until the test ends, then shuts the server down and waits for it,
// so that nothing writes into the test's temporary directories after they
// are removed. A test can also stop the server and start a fresh one on the
// same address, as if it had been restarted.
//
// It takes the server as a small interface, which *server.Server
// satisfies, rather than importing package server: server's own tests use
// it too, and an import of server from here would be a cycle for them.
// Building the server (its config, users and logger) stays with the test;
// Hash and Logger are the two pieces every such test needs. Only tests
// import this package.
package testserver

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Server is what Start runs: *server.Server from package server.
type Server interface {
	Serve(net.Listener) error
	ServeImplicitTLS(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

// Options adjust Start. The zero value serves explicit FTP only.
type Options struct {
	// ImplicitTLS also serves implicit FTPS on a second port (the server
	// must have a certificate).
	ImplicitTLS bool
	// Wrap, if not nil, is given each control listener (again on Restart)
	// and the server serves what it returns: a test counts or inspects the
	// control connections there.
	Wrap func(net.Listener) net.Listener
}

// shutdownTimeout bounds the graceful shutdown at the end of a test; then
// the server closes every session at once.
const shutdownTimeout = 5 * time.Second

// Running is a server started by Start. Addr and ImplicitAddr stay the same
// across Restart and may be read from any goroutine; Stop and Restart are
// for the test's own goroutine and must not run concurrently.
type Running struct {
	// Addr is the control address (host:port on 127.0.0.1).
	Addr string
	// ImplicitAddr is the implicit FTPS address, or "" without
	// Options.ImplicitTLS.
	ImplicitAddr string

	t     testing.TB
	wrap  func(net.Listener) net.Listener
	srv   Server // nil when stopped
	serve sync.WaitGroup
}

// Start serves srv on a free port of 127.0.0.1 and, at the end of the test,
// shuts it down (gracefully for up to five seconds, then by closing every
// session) and waits until it has stopped serving.
func Start(t testing.TB, srv Server, opts Options) *Running {
	t.Helper()
	r := &Running{t: t, Addr: "127.0.0.1:0", wrap: opts.Wrap}
	if opts.ImplicitTLS {
		r.ImplicitAddr = "127.0.0.1:0"
	}
	r.serveOn(srv)
	t.Cleanup(func() {
		if r.srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		r.srv.Shutdown(ctx)
		r.serve.Wait()
	})
	return r
}

// Stop closes the server at once, aborting its transfers, as a crash or a
// lost network would end them, and waits until it has stopped serving. It
// does nothing when the server is stopped already.
func (r *Running) Stop() {
	if r.srv == nil {
		return
	}
	r.srv.Close()
	r.serve.Wait()
	r.srv = nil
}

// Restart stops the server and serves srv, a new one, on the same
// addresses, retrying for a few seconds while the old ports linger.
func (r *Running) Restart(srv Server) {
	r.t.Helper()
	r.Stop()
	r.serveOn(srv)
}

// serveOn listens on r's addresses and serves srv there.
func (r *Running) serveOn(srv Server) {
	r.t.Helper()
	ln := r.listen(&r.Addr)
	r.srv = srv
	r.serve.Add(1)
	go func() { defer r.serve.Done(); srv.Serve(ln) }()
	if r.ImplicitAddr != "" {
		iln := r.listen(&r.ImplicitAddr)
		r.serve.Add(1)
		go func() { defer r.serve.Done(); srv.ServeImplicitTLS(iln) }()
	}
}

// listen listens on *addr and sets it to the address it got.
func (r *Running) listen(addr *string) net.Listener {
	r.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // a port just closed may linger briefly
		if ln, err = net.Listen("tcp", *addr); err == nil {
			*addr = ln.Addr().String()
			if r.wrap != nil {
				return r.wrap(ln)
			}
			return ln
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatalf("listen on %s: %v", *addr, err)
	return nil
}

var hashes sync.Map // password -> its bcrypt hash

// Hash returns the bcrypt hash of password at the lowest cost, made once
// per password for the whole test binary. Safe for concurrent use.
func Hash(password string) string {
	if h, ok := hashes.Load(password); ok {
		return h.(string)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		panic("testserver: " + err.Error()) // only for passwords over 72 bytes
	}
	v, _ := hashes.LoadOrStore(password, string(h))
	return v.(string)
}

// Logger returns a logger that writes records at level and above to the
// test's log, so that a server's complaints show with the test that
// caused them.
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: level}))
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
