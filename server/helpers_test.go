package server

import (
	"crypto/x509"
	"errors"
	"log/slog"
	"net/textproto"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/testpki"
	"github.com/syncagent/syncagent/internal/testserver"
)

// testPassword is the password of every test user.
const testPassword = "s3cret-pass"

var userHash = testserver.Hash(testPassword)

// testServer is a real server on 127.0.0.1:0 with a temporary storage root.
type testServer struct {
	*Server
	Addr string
	Root string
	// ImplicitAddr is set when the server also serves implicit TLS.
	ImplicitAddr string
	CertPool     *x509.CertPool
}

// testConfig returns a config with users alice (read-write), reader
// (read-only) and keeper (append-only), small limits and short timeouts.
func testConfig(t testing.TB) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Root = t.TempDir()
	cfg.PassivePorts = ""
	cfg.Users = []UserConfig{
		{Name: "alice", PasswordHash: userHash, Home: "alice"},
		{Name: "bob", PasswordHash: userHash, Home: "bob"},
		{Name: "reader", PasswordHash: userHash, Home: "alice", ReadOnly: true},
		{Name: "keeper", PasswordHash: userHash, Home: "keeper", AppendOnly: true},
	}
	cfg.Limits.MaxConnections = 200
	cfg.Limits.MaxPerIP = 150
	cfg.Limits.IdleTimeout = config.Duration(time.Minute)
	return cfg
}

// startServer starts cfg (testConfig when nil-ish tweaks are not needed)
// and stops it when the test ends.
func startServer(t testing.TB, cfg Config, tweak ...func(*Server)) *testServer {
	t.Helper()
	srv, err := New(cfg, testserver.Logger(t, slog.LevelWarn))
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	srv.LoginFailDelay = 10 * time.Millisecond
	srv.DataTimeout = 10 * time.Second
	for _, f := range tweak {
		f(srv)
	}
	r := testserver.Start(t, srv, testserver.Options{ImplicitTLS: srv.TLSConfig != nil})
	return &testServer{Server: srv, Addr: r.Addr, ImplicitAddr: r.ImplicitAddr, Root: cfg.Root}
}

// dial logs in with jlaffaye/ftp.
func dial(t testing.TB, addr, user string, opts ...ftp.DialOption) *ftp.ServerConn {
	t.Helper()
	opts = append([]ftp.DialOption{ftp.DialWithTimeout(10 * time.Second)}, opts...)
	c, err := ftp.Dial(addr, opts...)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	if err := c.Login(user, testPassword); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	t.Cleanup(func() { c.Quit() })
	return c
}

// replyCode extracts the FTP reply code from a client error (0 if none).
func replyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// tlsFiles are a test CA, a server certificate for 127.0.0.1 and a client
// certificate (see internal/testpki).
type tlsFiles = testpki.Files

func writeTLSFiles(t testing.TB, dir, clientCN string) tlsFiles {
	return testpki.Write(t, dir, clientCN)
}
