package server

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jlaffaye/ftp"
)

func TestBasicFileOperations(t *testing.T) {
	ts := startServer(t, testConfig(t))
	c := dial(t, ts.Addr, "alice")

	if err := c.MakeDir("docs"); err != nil {
		t.Fatalf("mkd: %v", err)
	}
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	if err := c.Stor("docs/a b ü.bin", bytes.NewReader(data)); err != nil {
		t.Fatalf("stor: %v", err)
	}
	onDisk, err := os.ReadFile(filepath.Join(ts.Root, "alice", "docs", "a b ü.bin"))
	if err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("stored file differs (err %v, %d bytes)", err, len(onDisk))
	}
	size, err := c.FileSize("docs/a b ü.bin")
	if err != nil || size != int64(len(data)) {
		t.Fatalf("size = %d, %v; want %d", size, err, len(data))
	}
	entries, err := c.List("docs")
	if err != nil || len(entries) != 1 || entries[0].Name != "a b ü.bin" || entries[0].Size != uint64(len(data)) {
		t.Fatalf("list = %+v, %v", entries, err)
	}
	r, err := c.Retr("docs/a b ü.bin")
	if err != nil {
		t.Fatalf("retr: %v", err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("retrieved %d bytes (err %v), want the %d stored", len(got), err, len(data))
	}
	r, err = c.RetrFrom("docs/a b ü.bin", 1000)
	if err != nil {
		t.Fatalf("retr from: %v", err)
	}
	got, _ = io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, data[1000:]) {
		t.Fatalf("REST+RETR returned %d bytes, want %d", len(got), len(data)-1000)
	}
	if err := c.Rename("docs/a b ü.bin", "docs/renamed.bin"); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if err := c.ChangeDir("docs"); err != nil {
		t.Fatalf("cwd: %v", err)
	}
	if dir, _ := c.CurrentDir(); dir != "/docs" {
		t.Fatalf("pwd = %q", dir)
	}
	if err := c.Delete("renamed.bin"); err != nil {
		t.Fatalf("dele: %v", err)
	}
	if err := c.ChangeDirToParent(); err != nil {
		t.Fatalf("cdup: %v", err)
	}
	if err := c.RemoveDir("docs"); err != nil {
		t.Fatalf("rmd: %v", err)
	}
	left, _ := os.ReadDir(filepath.Join(ts.Root, "alice"))
	if len(left) != 0 {
		t.Fatalf("home not empty after cleanup: %v", left)
	}
}

func TestExplicitTLSWithSessionReuse(t *testing.T) {
	cfg := testConfig(t)
	tf := writeTLSFiles(t, t.TempDir(), "alice-cert")
	cfg.TLS.Cert, cfg.TLS.Key = tf.Cert, tf.Key
	cfg.TLS.Require = true
	cfg.TLS.RequireSessionReuse = true
	ts := startServer(t, cfg)

	// Without TLS the login is refused.
	plain := dialCtrl(t, ts.Addr, "")
	plain.must(530, "USER alice")

	tc := &tls.Config{RootCAs: tf.Pool, ServerName: "127.0.0.1", ClientSessionCache: tls.NewLRUClientSessionCache(8)}
	c := dial(t, ts.Addr, "alice", ftp.DialWithExplicitTLS(tc))
	if err := c.Stor("secret.txt", strings.NewReader("over tls")); err != nil {
		t.Fatalf("stor over tls: %v", err)
	}
	r, err := c.Retr("secret.txt")
	if err != nil {
		t.Fatalf("retr over tls: %v", err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "over tls" {
		t.Fatalf("got %q", got)
	}

	// Without a session cache the data connection cannot resume the
	// control session, and the server refuses it.
	noCache := &tls.Config{RootCAs: tf.Pool, ServerName: "127.0.0.1"}
	c2 := dial(t, ts.Addr, "alice", ftp.DialWithExplicitTLS(noCache))
	if _, err := c2.List("/"); err == nil {
		t.Fatal("data connection without TLS session reuse was accepted")
	}
}
