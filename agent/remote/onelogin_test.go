package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/ftpchild/ftpchildtest"
	"github.com/syncagent/syncagent/internal/proftpd/proftpdtest"
	"github.com/syncagent/syncagent/internal/pureftpd/pureftpdtest"
	"github.com/syncagent/syncagent/internal/testproxy"
	"github.com/syncagent/syncagent/internal/vsftpd/vsftpdtest"
)

// loadConns is the pool size the one-login tests load.
const loadConns = 4

// loadPool first holds loadConns uploads in flight at once, so that p opens
// every connection it may, then runs every kind of operation from twice as
// many goroutines as p has connections. Any failure fails t.
func loadPool(t *testing.T, p *Pool) {
	t.Helper()
	ctx := testCtx(t)
	dir := t.TempDir()
	var started sync.WaitGroup
	started.Add(loadConns)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	var wg sync.WaitGroup
	for i := range loadConns {
		src := filepath.Join(dir, fmt.Sprint("hold", i))
		writeFile(t, src, randomBytes(t, 64<<10), time.Time{})
		wg.Go(func() {
			var once sync.Once
			hold := func(int64) { // runs while the upload holds its connection
				once.Do(func() {
					started.Done()
					select {
					case <-all:
					case <-ctx.Done():
					}
				})
			}
			if _, err := p.Upload(ctx, src, fmt.Sprintf("/load/hold%d", i), hold); err != nil {
				t.Errorf("upload %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for g := range 2 * loadConns {
		wg.Go(func() {
			for i := range 3 {
				if err := oneOfEach(p, dir, fmt.Sprintf("g%d-%d", g, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if _, err := p.Walk(ctx, "/load", nil); err != nil {
		t.Errorf("walk: %v", err)
	}
}

// oneOfEach uploads a file named name, lists, stats, downloads, renames
// and deletes it, and asks for its hash where the server has HASH.
func oneOfEach(p *Pool, dir, name string) error {
	ctx := context.Background()
	src, dst := filepath.Join(dir, name), filepath.Join(dir, name+".out")
	data := bytes.Repeat([]byte(name), 100)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		return err
	}
	remote := "/load/" + name
	if _, err := p.Upload(ctx, src, remote, nil); err != nil {
		return err
	}
	if _, err := p.List(ctx, "/load"); err != nil {
		return err
	}
	if _, err := p.Stat(ctx, remote); err != nil {
		return err
	}
	if _, err := p.Download(ctx, remote, dst, nil); err != nil {
		return err
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		return fmt.Errorf("%s: download differs from upload", name)
	}
	if _, err := p.Hash(ctx, remote); err != nil && !errors.Is(err, ErrNotSupported) {
		return err
	}
	if err := p.Rename(ctx, remote, remote+".moved"); err != nil {
		return err
	}
	return p.Delete(ctx, remote+".moved")
}

// TestOneLoginPerConnection: a pool of loadConns connections, under load,
// opens exactly loadConns control connections to syncserver, in plain FTP
// and in both TLS modes (with TLS data connections that must resume their
// control connection's session), each logged in once.
func TestOneLoginPerConnection(t *testing.T) {
	for _, mode := range []string{TLSNone, TLSExplicit, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			var accepted atomic.Int64
			cfg := serverConfig(t)
			var files tlsFiles
			if mode != TLSNone {
				cfg, files = tlsServerConfig(t)
			}
			ts := startCounted(t, cfg, &accepted)
			addr := ts.Addr
			if mode == TLSImplicit {
				addr = ts.ImplicitAddr
			}
			p := newPool(t, addr, func(c *Config) { c.TLS, c.CAFile, c.Connections = mode, files.CA, loadConns })
			loadPool(t, p)
			if n := accepted.Load(); n != loadConns {
				t.Errorf("connections: %d opened %d control connections, want %d", loadConns, n, loadConns)
			}
		})
	}
}

// TestOneLoginPerConnectionPeers is TestOneLoginPerConnection against
// real vsftpd (no MLSD, so listings go through LIST), pure-ftpd and
// ProFTPD, counted by a proxy.
func TestOneLoginPerConnectionPeers(t *testing.T) {
	for name, start := range peerServers {
		t.Run(name, func(t *testing.T) {
			v := start(t)
			proxy := testproxy.New(t, v.Addr, nil)
			p := newPool(t, proxy.Addr(), func(c *Config) {
				c.User, c.Password, c.Connections = v.User, v.Password, loadConns
			})
			loadPool(t, p)
			if n := proxy.Accepted(); n != loadConns {
				t.Errorf("connections: %d opened %d control connections, want %d", loadConns, n, loadConns)
			}
		})
	}
}

// peerServers start the other FTP servers the package is tested against,
// each with one local user.
var peerServers = map[string]func(testing.TB) *ftpchildtest.Server{
	"vsftpd":    func(t testing.TB) *ftpchildtest.Server { return vsftpdtest.Start(t) },
	"pure-ftpd": func(t testing.TB) *ftpchildtest.Server { return pureftpdtest.Start(t) },
	"proftpd":   func(t testing.TB) *ftpchildtest.Server { return proftpdtest.Start(t) },
}
