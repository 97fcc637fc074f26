package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hashReply checks that HASH of p answers the SHA-256 of want, and
// reports whether the digest cache answered it.
func hashReply(t *testing.T, c *ctrl, ts *testServer, p string, want []byte) (cached bool) {
	t.Helper()
	before := ts.Server.digests.Hits()
	sum := sha256.Sum256(want)
	wantMsg := fmt.Sprintf("SHA-256 0-%d %s %s", len(want), hex.EncodeToString(sum[:]), p)
	if msg := c.must(213, "HASH %s", p); msg != wantMsg {
		t.Fatalf("HASH %s = %q, want %q", p, msg, wantMsg)
	}
	return ts.Server.digests.Hits() > before
}

// TestHashAnsweredFromUpload follows syncagent's upload: STOR to a
// temporary name, HASH, MFMT, RNFR/RNTO; HASH answers from the digest
// computed while receiving, until the file changes behind the server.
func TestHashAnsweredFromUpload(t *testing.T) {
	ts := startServer(t, testConfig(t))
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(200, "TYPE I")
	content := []byte(strings.Repeat("hash on receipt\n", 100000)) // 1.6 MB: several buffers
	if code, msg, _ := c.dataCmd("STOR .tmp.a", content); code != 226 {
		t.Fatalf("STOR: %d %q", code, msg)
	}
	if !hashReply(t, c, ts, ".tmp.a", content) {
		t.Error("HASH after STOR read the file")
	}
	c.must(213, "MFMT 20200102030405 .tmp.a")
	if !hashReply(t, c, ts, ".tmp.a", content) {
		t.Error("HASH after MFMT read the file")
	}
	c.must(350, "RNFR .tmp.a")
	c.must(250, "RNTO a.bin")
	if !hashReply(t, c, ts, "a.bin", content) {
		t.Error("HASH after RNFR/RNTO read the file")
	}

	// Rewritten in place on disk, same size, modification time restored:
	// only the change time tells, and the cache must miss.
	osPath := filepath.Join(ts.Root, "alice", "a.bin")
	fi, err := os.Stat(osPath)
	if err != nil {
		t.Fatal(err)
	}
	changed := []byte(strings.Repeat("HASH ON RECEIPT\n", 100000))
	if err := os.WriteFile(osPath, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(osPath, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if hashReply(t, c, ts, "a.bin", changed) {
		t.Error("HASH of a file changed on disk came from the cache")
	}
	if hashReply(t, c, ts, "a.bin", changed) {
		t.Error("HASH of a file the server did not write came from the cache")
	}

	// Other algorithms always read the file.
	c.must(200, "OPTS HASH MD5")
	c.must(213, "HASH a.bin")
	c.must(200, "OPTS HASH SHA-256")

	// A replacement gets its own digest; the old one is not reused.
	if code, msg, _ := c.dataCmd("STOR a.bin", content); code != 226 {
		t.Fatalf("STOR: %d %q", code, msg)
	}
	if !hashReply(t, c, ts, "a.bin", content) {
		t.Error("HASH after the second STOR read the file")
	}
}

// TestHashAfterAppendAndRestart checks the digest of uploads that start
// from the existing file's content (APPE, REST then STOR).
func TestHashAfterAppendAndRestart(t *testing.T) {
	ts := startServer(t, testConfig(t))
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(200, "TYPE I")
	if code, msg, _ := c.dataCmd("STOR f", []byte("0123456789")); code != 226 {
		t.Fatalf("STOR: %d %q", code, msg)
	}
	if code, msg, _ := c.dataCmd("APPE f", []byte("abc")); code != 226 {
		t.Fatalf("APPE: %d %q", code, msg)
	}
	if !hashReply(t, c, ts, "f", []byte("0123456789abc")) {
		t.Error("HASH after APPE read the file")
	}
	c.must(350, "REST 4")
	if code, msg, _ := c.dataCmd("STOR f", []byte("XY")); code != 226 {
		t.Fatalf("REST+STOR: %d %q", code, msg)
	}
	if !hashReply(t, c, ts, "f", []byte("0123XY")) {
		t.Error("HASH after REST+STOR read the file")
	}
	// Touched on disk (mtime only, same content): a miss, still right.
	osPath := filepath.Join(ts.Root, "alice", "f")
	if err := os.Chtimes(osPath, time.Now(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if hashReply(t, c, ts, "f", []byte("0123XY")) {
		t.Error("HASH after a change on disk came from the cache")
	}
}
