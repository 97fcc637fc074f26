package remote

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/syncagent/syncagent/server"
)

// tlsServer starts a server that requires TLS and session reuse on data
// connections, with alice (password) and carol (certificate only).
func tlsServer(t *testing.T) (*testServer, tlsFiles) {
	t.Helper()
	cfg, files := tlsServerConfig(t)
	return startServer(t, cfg), files
}

// tlsServerConfig is the configuration tlsServer runs.
func tlsServerConfig(t *testing.T) (server.Config, tlsFiles) {
	t.Helper()
	files := writeTLSFiles(t, "carol-cert")
	cfg := serverConfig(t)
	cfg.TLS.Cert, cfg.TLS.Key, cfg.TLS.ClientCA = files.Cert, files.Key, files.CA
	cfg.TLS.Require = true
	cfg.TLS.RequireSessionReuse = true
	cfg.Users = append(cfg.Users, server.UserConfig{Name: "carol", Home: "carol", CertCN: "carol-cert"})
	return cfg, files
}

// exercise runs uploads, listings and downloads on several connections at
// once, which needs every data connection to resume its own control
// connection's TLS session.
func exercise(t *testing.T, p *Pool, home string) {
	t.Helper()
	ctx := testCtx(t)
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := bytes.Repeat([]byte{byte(i)}, 1000*i) // includes an empty file
			src := filepath.Join(dir, fmt.Sprint(i))
			writeFile(t, src, data, time.Time{})
			remote := fmt.Sprintf("/tls/f%d", i)
			if _, err := p.Upload(ctx, src, remote, nil); err != nil {
				t.Errorf("upload %s: %v", remote, err)
				return
			}
			dst := filepath.Join(dir, "out", fmt.Sprint(i))
			if _, err := p.Download(ctx, remote, dst, nil); err != nil {
				t.Errorf("download %s: %v", remote, err)
				return
			}
			if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
				t.Errorf("%s: round trip changed the content", remote)
			}
		}()
	}
	wg.Wait()
	entries, err := p.List(ctx, "/tls")
	if err != nil || len(entries) != 4 {
		t.Fatalf("list = %v, %v", entries, err)
	}
	if _, err := os.Stat(filepath.Join(home, "tls", "f3")); err != nil {
		t.Errorf("file not in the expected home: %v", err)
	}
}

func TestExplicitTLS(t *testing.T) {
	ts, files := tlsServer(t)
	p := newPool(t, ts.Addr, func(c *Config) { c.TLS, c.CAFile, c.Connections = TLSExplicit, files.CA, 3 })
	caps, err := p.Caps(testCtx(t))
	if err != nil || !caps.TLS || !caps.HASH {
		t.Fatalf("caps = %+v, %v", caps, err)
	}
	exercise(t, p, ts.Home())
}

func TestImplicitTLS(t *testing.T) {
	ts, files := tlsServer(t)
	p := newPool(t, ts.ImplicitAddr, func(c *Config) { c.TLS, c.CAFile = TLSImplicit, files.CA })
	exercise(t, p, ts.Home())
}

func TestClientCertLogin(t *testing.T) {
	ts, files := tlsServer(t)
	p := newPool(t, ts.Addr, func(c *Config) {
		c.TLS, c.CAFile, c.User, c.Password = TLSExplicit, files.CA, "carol", ""
		c.ClientCert, c.ClientKey = files.ClientCert, files.ClientKey
	})
	exercise(t, p, filepath.Join(ts.Root, "carol"))
}

func TestTLSUnknownCA(t *testing.T) {
	ts, _ := tlsServer(t)
	p := newPool(t, ts.Addr, func(c *Config) { c.TLS = TLSExplicit })
	_, err := p.List(testCtx(t), "/")
	if err == nil || IsTransient(err) {
		t.Fatalf("server with an unknown CA: %v, want a permanent error", err)
	}
	p = newPool(t, ts.Addr, func(c *Config) { c.TLS, c.InsecureSkipVerify = TLSExplicit, true })
	if _, err := p.List(testCtx(t), "/"); err != nil {
		t.Fatalf("with insecure_skip_verify: %v", err)
	}
}

func TestPlainLoginRefusedWhenTLSRequired(t *testing.T) {
	ts, _ := tlsServer(t)
	p := newPool(t, ts.Addr)
	_, err := p.List(testCtx(t), "/")
	if ReplyCode(err) != 530 || IsTransient(err) {
		t.Fatalf("plain login on a TLS-only server: %v", err)
	}
}
