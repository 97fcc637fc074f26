package remote

import (
	"context"
	"crypto/rand"
	"github.com/syncagent/syncagent/internal/testpki"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/server"
	"golang.org/x/crypto/bcrypt"
)

const testPassword = "s3cret-pass"

var testHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

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
	logger := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, err := server.New(cfg, logger)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	srv.LoginFailDelay = 10 * time.Millisecond
	srv.DataTimeout = 10 * time.Second
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Addr: ln.Addr().String(), Root: cfg.Root}
	if err := os.MkdirAll(ts.Home(), 0o755); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	if srv.TLSConfig != nil {
		iln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ts.ImplicitAddr = iln.Addr().String()
		go srv.ServeImplicitTLS(iln)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return ts
}

type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// newPool makes a pool for alice at addr; tweak adjusts the config.
func newPool(t testing.TB, addr string, tweak ...func(*Config)) *Pool {
	t.Helper()
	cfg := Config{Address: addr, User: "alice", Password: testPassword, Connections: 2, OpTimeout: 10 * time.Second}
	for _, f := range tweak {
		f(&cfg)
	}
	p, err := NewPool(cfg, slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
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
