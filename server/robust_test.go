package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/testenv"

	"github.com/jlaffaye/ftp"
)

// writeHome writes a file into user's home on disk.
func writeHome(t *testing.T, root, user, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(root, user, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertUploadDiscarded checks that name still holds want and that neither
// the home nor the server's temp directory holds anything else.
func assertUploadDiscarded(t *testing.T, root, user, name string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(root, user, name))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s after the failed upload: %q (%d bytes), %v; want the previous content", name, abbrev(string(got)), len(got), err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, user))
	if len(entries) != 1 {
		t.Errorf("debris in the home: %v", entries)
	}
	if left, _ := os.ReadDir(filepath.Join(root, ".syncserver", "tmp")); len(left) != 0 {
		t.Errorf("debris in ROOT/.syncserver/tmp: %v", left)
	}
}

// startUpload opens an EPSV data connection and sends line, expecting 150.
func (c *ctrl) startUpload(line string) net.Conn {
	c.t.Helper()
	addr := c.epsv()
	dc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		c.t.Fatalf("dial data: %v", err)
	}
	c.t.Cleanup(func() { dc.Close() })
	if code, msg := c.send(line); code != 150 {
		c.t.Fatalf("%s: reply %d %q, want 150", line, code, msg)
	}
	dc.SetDeadline(time.Now().Add(20 * time.Second))
	return dc
}

// TestManyConcurrentSessions runs 100 sessions that each upload and read
// back a file of their own.
func TestManyConcurrentSessions(t *testing.T) {
	ts := startServer(t, testConfig(t))
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- roundTrip(ts.Addr, i)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func roundTrip(addr string, i int) error {
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(30*time.Second))
	if err != nil {
		return fmt.Errorf("client %d: dial: %w", i, err)
	}
	defer c.Quit()
	user := []string{"alice", "bob"}[i%2]
	if err := c.Login(user, testPassword); err != nil {
		return fmt.Errorf("client %d: login: %w", i, err)
	}
	data := make([]byte, 20<<10+i*97)
	rand.Read(data)
	name := fmt.Sprintf("client-%03d.bin", i)
	if err := c.Stor(name, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("client %d: stor: %w", i, err)
	}
	r, err := c.Retr(name)
	if err != nil {
		return fmt.Errorf("client %d: retr: %w", i, err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		return fmt.Errorf("client %d: read back %d of %d bytes (%v), or they differ", i, len(got), len(data), err)
	}
	return nil
}

// TestAbortDuringRETR sends ABOR during a large download: 426 for the
// transfer, 226 for the ABOR, and the session goes on.
func TestAbortDuringRETR(t *testing.T) {
	cfg := testConfig(t)
	ts := startServer(t, cfg)
	big := writeHome(t, cfg.Root, "alice", "big.bin", nil)
	if err := os.Truncate(big, 256<<20); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	writeHome(t, cfg.Root, "alice", "small.txt", []byte("still works"))
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(200, "TYPE I")
	dc := c.startUpload("RETR big.bin")
	if _, err := io.ReadFull(dc, make([]byte, 64<<10)); err != nil {
		t.Fatalf("read start of download: %v", err)
	}
	c.must(426, "ABOR")
	c.expect(226)
	dc.Close()
	c.must(200, "NOOP")
	if code, _, data := c.dataCmd("RETR small.txt", nil); code != 226 || string(data) != "still works" {
		t.Fatalf("RETR after ABOR: %d %q", code, data)
	}
}

// TestSTORConnectionReset resets the data connection mid-upload: the
// previous file stays and no temporary file is left behind.
func TestSTORConnectionReset(t *testing.T) {
	cfg := testConfig(t)
	ts := startServer(t, cfg)
	prev := []byte("previous content")
	writeHome(t, cfg.Root, "alice", "f.bin", prev)
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(200, "TYPE I")
	dc := c.startUpload("STOR f.bin")
	dc.Write(bytes.Repeat([]byte("new data "), 100000))
	dc.(*net.TCPConn).SetLinger(0)
	dc.Close() // RST, not FIN: the upload did not end, it broke
	if code, msg := c.send2(); code < 400 {
		t.Fatalf("reset upload: reply %d %q, want an error", code, msg)
	}
	assertUploadDiscarded(t, cfg.Root, "alice", "f.bin", prev)
	c.must(200, "NOOP")
}

// TestAbortDuringSTOR aborts an upload with ABOR.
func TestAbortDuringSTOR(t *testing.T) {
	cfg := testConfig(t)
	ts := startServer(t, cfg)
	prev := []byte("previous content")
	writeHome(t, cfg.Root, "alice", "f.bin", prev)
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	dc := c.startUpload("STOR f.bin")
	dc.Write(bytes.Repeat([]byte("partial "), 50000))
	c.must(426, "ABOR")
	c.expect(226)
	assertUploadDiscarded(t, cfg.Root, "alice", "f.bin", prev)
	c.must(200, "NOOP")
}

// waitRefused waits (bounded) until the server no longer greets new clients.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 3)
		_, err = io.ReadFull(conn, b)
		conn.Close()
		if err != nil || string(b) == "421" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("server still greets new clients")
}

// TestShutdownDrainsTransfer lets an upload running at Shutdown complete.
func TestShutdownDrainsTransfer(t *testing.T) {
	cfg := testConfig(t)
	ts := startServer(t, cfg)
	idle := dialCtrl(t, ts.Addr, "")
	idle.login("bob")
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(200, "TYPE I")
	data := make([]byte, 1<<20)
	rand.Read(data)
	dc := c.startUpload("STOR f.bin")
	dc.Write(data[:len(data)/2])

	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		errc <- ts.Shutdown(ctx)
	}()
	waitRefused(t, ts.Addr)
	// The idle session is told and closed.
	if code, _ := idle.read(); code != 421 {
		t.Fatalf("idle session at shutdown: reply %d, want 421", code)
	}
	dc.Write(data[len(data)/2:])
	dc.Close()
	c.expect(226)
	c.expect(421)
	assertClosed(t, c.conn)
	if err := <-errc; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(cfg.Root, "alice", "f.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("upload finished during shutdown: %d bytes, %v", len(got), err)
	}
}

// TestCloseAbortsTransfer closes the server during an upload: the previous
// file stays intact.
func TestCloseAbortsTransfer(t *testing.T) {
	cfg := testConfig(t)
	ts := startServer(t, cfg)
	prev := []byte("previous content")
	writeHome(t, cfg.Root, "alice", "f.bin", prev)
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	dc := c.startUpload("STOR f.bin")
	dc.Write(bytes.Repeat([]byte("partial "), 50000))
	if err := ts.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	assertClosed(t, c.conn)
	assertUploadDiscarded(t, cfg.Root, "alice", "f.bin", prev)
}

// TestIdleTimeout closes an idle session but not one in a long transfer.
func TestIdleTimeout(t *testing.T) {
	cfg := testConfig(t)
	ts := startServer(t, cfg, func(s *Server) { s.IdleTimeout = 150 * time.Millisecond })

	idle := dialCtrl(t, ts.Addr, "")
	idle.login("alice")
	if code, _ := idle.read(); code != 421 {
		t.Fatalf("idle session: reply %d, want 421", code)
	}
	assertClosed(t, idle.conn)

	// A slow upload lasting several idle timeouts completes.
	busy := dialCtrl(t, ts.Addr, "")
	busy.login("alice")
	dc := busy.startUpload("STOR slow.bin")
	chunk := bytes.Repeat([]byte("z"), 1024)
	const chunks = 25
	for range chunks {
		if _, err := dc.Write(chunk); err != nil {
			t.Fatalf("slow write: %v", err)
		}
		time.Sleep(30 * time.Millisecond) // 25 × 30 ms = 5 idle timeouts
	}
	dc.Close()
	busy.expect(226)
	fi, err := os.Stat(filepath.Join(cfg.Root, "alice", "slow.bin"))
	if err != nil || fi.Size() != chunks*1024 {
		t.Fatalf("slow upload stored %v, %v", fi, err)
	}
}

func tlsServerConfig(t *testing.T) (Config, tlsFiles) {
	cfg := testConfig(t)
	tf := writeTLSFiles(t, t.TempDir(), "carol-cert")
	cfg.TLS.Cert, cfg.TLS.Key = tf.Cert, tf.Key
	return cfg, tf
}

// TestImplicitTLSLogin logs in and transfers over the implicit TLS listener.
func TestImplicitTLSLogin(t *testing.T) {
	cfg, tf := tlsServerConfig(t)
	ts := startServer(t, cfg)
	tc := &tls.Config{RootCAs: tf.Pool, ServerName: "127.0.0.1", ClientSessionCache: tls.NewLRUClientSessionCache(8)}
	c := dial(t, ts.ImplicitAddr, "alice", ftp.DialWithTLS(tc))
	if err := c.Stor("implicit.txt", strings.NewReader("implicit tls")); err != nil {
		t.Fatalf("stor: %v", err)
	}
	r, err := c.Retr("implicit.txt")
	if err != nil {
		t.Fatalf("retr: %v", err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "implicit tls" {
		t.Fatalf("got %q", got)
	}
	// Plain FTP spoken to the implicit port gets nowhere.
	conn, err := net.DialTimeout("tcp", ts.ImplicitAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "USER alice\r\n")
	b, _ := io.ReadAll(conn)
	if bytes.Contains(b, []byte("331")) || bytes.Contains(b, []byte("220")) {
		t.Fatalf("implicit port answered plain FTP: %q", b)
	}
}

// TestClientCertificateLogin logs carol in with her certificate alone.
func TestClientCertificateLogin(t *testing.T) {
	cfg, tf := tlsServerConfig(t)
	cfg.TLS.ClientCA = tf.CA
	cfg.Users = append(cfg.Users,
		UserConfig{Name: "carol", Home: "carol", CertCN: "carol-cert"},
		UserConfig{Name: "dave", Home: "dave", CertCN: "dave-cert"})
	ts := startServer(t, cfg)
	withCert := func(certs ...tls.Certificate) ftp.DialOption {
		return ftp.DialWithExplicitTLS(&tls.Config{
			RootCAs: tf.Pool, ServerName: "127.0.0.1", Certificates: certs,
			ClientSessionCache: tls.NewLRUClientSessionCache(8),
		})
	}
	c, err := ftp.Dial(ts.Addr, ftp.DialWithTimeout(10*time.Second), withCert(tf.Client))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Quit()
	if err := c.Login("carol", "any password at all"); err != nil {
		t.Fatalf("certificate login: %v", err)
	}
	if err := c.Stor("by-cert.txt", strings.NewReader("cert")); err != nil {
		t.Fatalf("stor: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Root, "carol", "by-cert.txt")); err != nil {
		t.Fatalf("upload not in carol's home: %v", err)
	}

	// Carol's certificate is not dave's.
	c2, err := ftp.Dial(ts.Addr, ftp.DialWithTimeout(10*time.Second), withCert(tf.Client))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c2.Quit()
	if err := c2.Login("dave", "x"); replyCode(err) != 530 {
		t.Fatalf("dave with carol's certificate: %v, want 530", err)
	}
	// Without a certificate carol has no password to log in with.
	c3, err := ftp.Dial(ts.Addr, ftp.DialWithTimeout(10*time.Second), withCert())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c3.Quit()
	if err := c3.Login("carol", ""); replyCode(err) != 530 {
		t.Fatalf("carol without certificate: %v, want 530", err)
	}
	// A certificate named dave-cert from another CA does not verify.
	other := writeTLSFiles(t, t.TempDir(), "dave-cert")
	c4, err := ftp.Dial(ts.Addr, ftp.DialWithTimeout(10*time.Second), withCert(other.Client))
	if err == nil {
		defer c4.Quit()
		if err := c4.Login("dave", "x"); err == nil {
			t.Fatal("certificate from an unknown CA logged in")
		}
	}
}

// TestTLSDataSessionReuse accepts a TLS data connection that resumes the
// control session and refuses (425) one that does not.
func TestTLSDataSessionReuse(t *testing.T) {
	cfg, tf := tlsServerConfig(t)
	cfg.TLS.RequireSessionReuse = true
	ts := startServer(t, cfg)
	writeHome(t, cfg.Root, "alice", "f.txt", []byte("tls data"))
	tc := &tls.Config{RootCAs: tf.Pool, ServerName: "127.0.0.1", ClientSessionCache: tls.NewLRUClientSessionCache(8)}
	c := dialCtrl(t, ts.Addr, "")
	c.startTLS(tc)
	c.must(200, "PBSZ 0")
	c.must(200, "PROT P")
	c.login("alice")

	retr := func(cfg *tls.Config) (int, string, bool) {
		dc := c.startUpload("RETR f.txt")
		tdc := tls.Client(dc, cfg)
		var data string
		if err := tdc.Handshake(); err == nil {
			data = readAllConn(t, tdc)
		}
		code, _ := c.send2()
		return code, data, tdc.ConnectionState().DidResume
	}
	code, data, resumed := retr(tc)
	if code != 226 || data != "tls data" || !resumed {
		t.Fatalf("resumed data connection: %d %q resumed=%v", code, data, resumed)
	}
	fresh := &tls.Config{RootCAs: tf.Pool, ServerName: "127.0.0.1"}
	code, data, _ = retr(fresh)
	if code != 425 || data != "" {
		t.Fatalf("fresh TLS session on the data connection: %d %q, want 425 and no data", code, data)
	}
	c.must(200, "NOOP")
}

// TestFullDisk fills a small tmpfs: the upload fails with 552 and leaves
// the previous file and no debris.
func TestFullDisk(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("mounts a tmpfs: Linux only")
	}
	testenv.NeedRoot(t, "mounts a small tmpfs")
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
		testenv.Missing(t, "cannot mount tmpfs (%v: %s)", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	cfg := testConfig(t)
	cfg.Root = dir
	ts := startServer(t, cfg)
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(200, "TYPE I")
	prev := []byte("previous content")
	c.upload("STOR f.bin", prev)
	big := make([]byte, 1<<20)
	rand.Read(big)
	if code, msg, _ := c.dataCmd("STOR f.bin", big); code != 552 {
		t.Fatalf("STOR on a full disk: %d %q, want 552", code, msg)
	}
	assertUploadDiscarded(t, cfg.Root, "alice", "f.bin", prev)
	c.must(200, "NOOP")
}

// TestRefusedTransferReleasesUpload covers uploads that never get a data
// connection (no PASV, a data connection that never comes, ABOR before
// it): the temporary file is removed when the reply is sent, not when the
// session ends.
func TestRefusedTransferReleasesUpload(t *testing.T) {
	cfg := testConfig(t)
	ts := startServer(t, cfg, func(s *Server) { s.DataTimeout = 200 * time.Millisecond })
	prev := []byte("previous content")
	writeHome(t, cfg.Root, "alice", "f.bin", prev)
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(425, "STOR f.bin") // no PASV/PORT first
	assertUploadDiscarded(t, cfg.Root, "alice", "f.bin", prev)
	c.epsv()
	c.must(150, "APPE f.bin") // nobody connects: 425 after DataTimeout
	c.expect(425)
	assertUploadDiscarded(t, cfg.Root, "alice", "f.bin", prev)
	c.epsv()
	c.must(150, "STOR f.bin")
	c.must(426, "ABOR") // before any data connection
	c.expect(226)
	assertUploadDiscarded(t, cfg.Root, "alice", "f.bin", prev)
	c.must(200, "NOOP")
}
