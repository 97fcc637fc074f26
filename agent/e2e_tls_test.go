package agent

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/testpki"
	"github.com/syncagent/syncagent/internal/testserver"
	"github.com/syncagent/syncagent/server"
)

// e2ePKI is a test CA with server and client certificates (internal/testpki).
type e2ePKI = testpki.Files

func newE2EPKI(t testing.TB, clientCN string) e2ePKI { return testpki.Write(t, "", clientCN) }

// startTLSServer starts syncserver with tls.require, session reuse and a
// client CA, and one certificate-only user "certuser"; it returns the
// explicit and implicit addresses and the user's home.
func startTLSServer(t testing.TB, pki e2ePKI) (explicit, implicit, home string) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Root = t.TempDir()
	cfg.PassivePorts = ""
	cfg.TLS.Cert, cfg.TLS.Key, cfg.TLS.ClientCA = pki.Cert, pki.Key, pki.CA
	cfg.TLS.Require = true
	cfg.TLS.RequireSessionReuse = true
	cfg.Users = []server.UserConfig{{Name: "certuser", Home: "certuser", CertCN: "e2e-agent"}}
	srv, err := server.New(cfg, testserver.Logger(t, slog.LevelWarn))
	if err != nil {
		t.Fatal(err)
	}
	r := testserver.Start(t, srv, testserver.Options{ImplicitTLS: true})
	return r.Addr, r.ImplicitAddr, filepath.Join(cfg.Root, "certuser")
}

func TestE2EPushOverTLSWithCertificateLogin(t *testing.T) {
	pki := newE2EPKI(t, "e2e-agent")
	explicit, implicit, home := startTLSServer(t, pki)
	for _, tc := range []struct{ mode, addr string }{{TLSExplicit, explicit}, {TLSImplicit, implicit}} {
		t.Run(tc.mode, func(t *testing.T) {
			local := t.TempDir()
			putFile(t, filepath.Join(local, "a.txt"), "over TLS")
			putFile(t, filepath.Join(local, "dir/b.txt"), "with a client certificate")
			writeRandom(t, filepath.Join(local, "dir/c.bin"), 3<<20)
			cfg := DefaultConfig()
			cfg.State = filepath.Join(t.TempDir(), "state.db")
			cfg.StatusListen = ""
			cfg.Servers = map[string]ServerConfig{"tls": {Address: tc.addr, User: "certuser", TLS: tc.mode,
				CAFile: pki.CA, ClientCert: pki.ClientCert, ClientKey: pki.ClientKey, Connections: 3}}
			cfg.Folders = []FolderConfig{{Name: "f", Path: local, Server: "tls", Remote: "/" + tc.mode, Mode: ModePush,
				Debounce: config.Duration(20 * time.Millisecond), Poll: config.Duration(300 * time.Millisecond), Rescan: config.Duration(time.Hour), MaxDelete: "50%"}}
			a, _ := e2eStartAgent(t, cfg)
			remote := filepath.Join(home, tc.mode)
			waitMirror(t, local, remote)
			putFile(t, filepath.Join(local, "dir/b.txt"), "edited over TLS")
			os.Rename(filepath.Join(local, "a.txt"), filepath.Join(local, "renamed.txt"))
			waitMirror(t, local, remote)
			if p := a.Status()[0].Problems; len(p) > 0 {
				t.Fatalf("problems: %v", p)
			}
		})
	}
}
