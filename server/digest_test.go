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

// useHash makes c's user one whose uploads are hashed on receipt: a user
// that sends HASH (here of a file that does not exist).
func useHash(t *testing.T, c *ctrl) {
	t.Helper()
	c.must(550, "HASH no-such-file")
}

// TestHashOnReceiptFollowsHashUsers checks that uploads are hashed on
// receipt only for users who send HASH, from any of their sessions: the
// first HASH reads the file, the uploads after it come from the cache.
func TestHashOnReceiptFollowsHashUsers(t *testing.T) {
	ts := startServer(t, testConfig(t))
	up := dialCtrl(t, ts.Addr, "")
	up.login("alice")
	up.must(200, "TYPE I")
	hs := dialCtrl(t, ts.Addr, "")
	hs.login("alice")
	content := []byte(strings.Repeat("plain client\n", 1000))
	up.upload("STOR a", content)
	if hashReply(t, hs, ts, "a", content) {
		t.Error("an upload by a user that never sent HASH was hashed on receipt")
	}
	up.upload("STOR b", content)
	if !hashReply(t, hs, ts, "b", content) {
		t.Error("after a HASH on another session, the user's upload was not hashed on receipt")
	}
	// Another user's uploads are not.
	other := dialCtrl(t, ts.Addr, "")
	other.login("keeper")
	other.must(200, "TYPE I")
	other.upload("STOR k", content)
	if hashReply(t, other, ts, "k", content) {
		t.Error("another user's upload was hashed on receipt")
	}
	// OPTS HASH announces HASH too (syncagent sends it at login).
	third := dialCtrl(t, ts.Addr, "")
	third.login("reader")
	third.must(200, "OPTS HASH SHA-256")
	if !ts.Server.hashUsers.wants("reader", time.Now()) {
		t.Error("OPTS HASH did not mark the user")
	}
	if !ts.Server.hashUsers.wants("alice", time.Now()) || ts.Server.hashUsers.wants("alice", time.Now().Add(hashInterestTTL)) {
		t.Error("interest does not last hashInterestTTL")
	}
}

// TestHashAnsweredFromUpload follows syncagent's upload: STOR to a
// temporary name, HASH, MFMT, RNFR/RNTO; HASH answers from the digest
// computed while receiving, until the file changes behind the server.
func TestHashAnsweredFromUpload(t *testing.T) {
	ts := startServer(t, testConfig(t))
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(200, "TYPE I")
	useHash(t, c)
	content := []byte(strings.Repeat("hash on receipt\n", 100000)) // 1.6 MB: several buffers
	c.upload("STOR .tmp.a", content)
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
	c.upload("STOR a.bin", content)
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
	useHash(t, c)
	c.upload("STOR f", []byte("0123456789"))
	// APPE appends in place and records no digest: HASH reads the file.
	c.upload("APPE f", []byte("abc"))
	hashReply(t, c, ts, "f", []byte("0123456789abc"))
	c.must(350, "REST 4")
	c.upload("STOR f", []byte("XY"))
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
