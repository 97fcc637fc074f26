package remote

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/testpki"
	"github.com/syncagent/syncagent/internal/testserver"
	"github.com/syncagent/syncagent/server"
)

const testPassword = "s3cret-pass"

var testHash = testserver.Hash(testPassword)

// testServer is a real syncserver on 127.0.0.1:0.
type testServer struct {
	Addr         string
	ImplicitAddr string
	Root         string
}

// Home is alice's home directory on disk.
func (s *testServer) Home() string { return filepath.Join(s.Root, "alice") }

func serverConfig(t testing.TB) server.Config {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Root = t.TempDir()
	cfg.PassivePorts = ""
	cfg.Users = []server.UserConfig{{Name: "alice", PasswordHash: testHash, Home: "alice"}}
	cfg.Limits.MaxConnections = 200
	cfg.Limits.MaxPerIP = 150
	cfg.Limits.IdleTimeout = config.Duration(time.Minute)
	return cfg
}

func startServer(t testing.TB, cfg server.Config) *testServer {
	t.Helper()
	return startCounted(t, cfg, nil)
}

// startCounted is startServer that adds to accepted, when it is not nil,
// every control connection the server accepts (on either port).
func startCounted(t testing.TB, cfg server.Config, accepted *atomic.Int64) *testServer {
	t.Helper()
	srv, err := server.New(cfg, testserver.Logger(t, slog.LevelError))
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	srv.LoginFailDelay = 10 * time.Millisecond
	srv.DataTimeout = 10 * time.Second
	ts := &testServer{Root: cfg.Root}
	if err := os.MkdirAll(ts.Home(), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := testserver.Options{ImplicitTLS: srv.TLSConfig != nil}
	if accepted != nil {
		opts.Wrap = func(ln net.Listener) net.Listener { return countingListener{ln, accepted} }
	}
	r := testserver.Start(t, srv, opts)
	ts.Addr, ts.ImplicitAddr = r.Addr, r.ImplicitAddr
	return ts
}

// newPool makes a pool for alice at addr; tweak adjusts the config.
func newPool(t testing.TB, addr string, tweak ...func(*Config)) *Pool {
	t.Helper()
	cfg := Config{Address: addr, User: "alice", Password: testPassword, Connections: 2, OpTimeout: 10 * time.Second}
	for _, f := range tweak {
		f(&cfg)
	}
	p, err := NewPool(cfg, testserver.Logger(t, slog.LevelWarn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// writeFile writes content at path (parents created) with mtime.
func writeFile(t testing.TB, name string, content []byte, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// tlsFiles are a test CA, a server certificate for 127.0.0.1 and a client
// certificate (see internal/testpki).
type tlsFiles = testpki.Files

func writeTLSFiles(t testing.TB, clientCN string) tlsFiles { return testpki.Write(t, "", clientCN) }

// countingListener adds every connection it accepts to n.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
