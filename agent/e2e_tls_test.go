package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/server"
)

// e2ePKI is a throw-away CA with a server certificate for 127.0.0.1 and a
// client certificate, as PEM files.
type e2ePKI struct{ CA, Cert, Key, ClientCert, ClientKey string }

func newE2EPKI(t testing.TB, clientCN string) e2ePKI {
	t.Helper()
	dir := t.TempDir()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(name, cn string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return write(name+".pem", "CERTIFICATE", der), write(name+".key", "PRIVATE KEY", kder)
	}
	pki := e2ePKI{CA: write("ca.pem", "CERTIFICATE", caDER)}
	pki.Cert, pki.Key = issue("server", "127.0.0.1", 2, x509.ExtKeyUsageServerAuth)
	pki.ClientCert, pki.ClientKey = issue("client", clientCN, 3, x509.ExtKeyUsageClientAuth)
	return pki
}

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
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	iln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	go srv.ServeImplicitTLS(iln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), iln.Addr().String(), filepath.Join(cfg.Root, "certuser")
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
