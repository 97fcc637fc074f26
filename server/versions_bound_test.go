package server

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// storeBytes sums the version files the store holds for home.
func storeBytes(t *testing.T, root, home string) int64 {
	t.Helper()
	var n int64
	filepath.WalkDir(filepath.Join(root, ".syncserver", "versions", home), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// boundConfig is testConfig with a versions.max_bytes of 10,000 that
// applies before keep (100) does.
func boundConfig(t *testing.T) Config {
	cfg := testConfig(t)
	cfg.Versions.Keep = 100
	cfg.Versions.MaxBytes = 10000
	return cfg
}

// TestVersionsMaxBytes keeps one user's versions within versions.max_bytes
// however they are made (overwrite, DELE, RMD, overwrite after a rename),
// pruning the oldest first.
func TestVersionsMaxBytes(t *testing.T) {
	cfg := boundConfig(t)
	ts := startServer(t, cfg)
	c := dial(t, ts.Addr, "alice")
	body := func(ch string) string { return strings.Repeat(ch, 4000) }
	check := func(step string) {
		t.Helper()
		if n := storeBytes(t, ts.Root, "alice"); n > cfg.Versions.MaxBytes {
			t.Fatalf("after %s the versions take %d bytes, more than max_bytes %d", step, n, cfg.Versions.MaxBytes)
		}
	}
	for _, ch := range []string{"a", "b", "c", "d", "e"} {
		verStore(t, c, "/f", body(ch))
		check("STOR " + ch)
	}
	// The oldest went first: the newest two old contents remain.
	if got := verContents(t, c, "/f"); len(got) != 2 || got[0] != body("c") || got[1] != body("d") {
		t.Fatalf("versions of /f hold %d entries, want the contents c and d", len(got))
	}
	verStore(t, c, "/g", body("g"))
	if err := c.Delete("/g"); err != nil {
		t.Fatal(err)
	}
	check("DELE")
	if got := verContents(t, c, "/g"); len(got) != 1 || got[0] != body("g") {
		t.Fatalf("the deleted file's version was pruned before older ones")
	}
	// A renamed file starts no fresh allowance: the bound is per user.
	if err := c.Rename("/f", "/h"); err != nil {
		t.Fatal(err)
	}
	verStore(t, c, "/h", body("x"))
	check("overwrite after rename")
	c.MakeDir("/t")
	verStore(t, c, "/t/1", body("t"))
	if err := c.RemoveDir("/t"); err != nil {
		t.Fatal(err)
	}
	check("RMD")
	if got := verContents(t, c, "/t/1"); len(got) != 1 {
		t.Fatalf("the newest version (of the removed tree) was pruned")
	}
}

// TestVersionsMaxBytesAppendOnly never prunes what an append-only user's
// overwrites kept: the overwrite that would pass the bound is refused.
func TestVersionsMaxBytesAppendOnly(t *testing.T) {
	ts := startServer(t, boundConfig(t))
	k := dialCtrl(t, ts.Addr, "")
	k.login("keeper")
	for _, ch := range []string{"1", "2", "3"} {
		k.upload("STOR k", []byte(strings.Repeat(ch, 4000)))
	}
	code, msg, _ := k.dataCmd("STOR k", []byte(strings.Repeat("4", 4000)))
	if code != 552 || !strings.Contains(msg, "max_bytes") {
		t.Fatalf("overwrite past max_bytes: %d %q, want 552", code, msg)
	}
	if b, _ := os.ReadFile(filepath.Join(ts.Root, "keeper", "k")); string(b) != strings.Repeat("3", 4000) {
		t.Fatalf("refused overwrite changed the file")
	}
	if n := storeBytes(t, ts.Root, "keeper"); n != 8000 {
		t.Fatalf("keeper's versions take %d bytes, want both kept (8000)", n)
	}
	// New files are still welcome.
	k.upload("STOR new", []byte("n"))
}

// TestAppendCostsWhatItAppends appends single bytes to a large file: the
// file is extended in place (same inode, no copy) and no version is kept.
func TestAppendCostsWhatItAppends(t *testing.T) {
	ts := startServer(t, testConfig(t))
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(200, "TYPE I")
	big := strings.Repeat("z", 1<<20)
	c.upload("STOR big", []byte(big))
	p := filepath.Join(ts.Root, "alice", "big")
	before, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		c.upload("APPE big", []byte("+"))
	}
	after, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if after.Size() != int64(len(big))+5 {
		t.Fatalf("size after 5 appends: %d", after.Size())
	}
	if !os.SameFile(before, after) {
		t.Fatal("APPE replaced the file with a copy instead of appending to it")
	}
	if n := storeBytes(t, ts.Root, "alice"); n != 0 {
		t.Fatalf("APPE kept %d bytes of versions", n)
	}
	if b, _ := os.ReadFile(p); string(b[len(big):]) != "+++++" {
		t.Fatalf("appended bytes = %q", b[len(big):])
	}
}

// TestAgentTempsNeverBecomeVersions overwrites and deletes syncagent's
// upload temporaries: they are never kept as versions.
func TestAgentTempsNeverBecomeVersions(t *testing.T) {
	ts := startServer(t, testConfig(t))
	c := dial(t, ts.Addr, "alice")
	c.MakeDir("/d")
	for _, p := range []string{"/.syncagent-a1b2.tmp", "/d/.syncagent-c3d4.tmp"} {
		verStore(t, c, p, "partial")
		verStore(t, c, p, "partial again")
		if err := c.Delete(p); err != nil {
			t.Fatal(err)
		}
		if got := verNames(t, c, p); len(got) != 0 {
			t.Errorf("versions of %s: %v", p, got)
		}
	}
	// An ordinary name beside them still gets its versions.
	verStore(t, c, "/d/syncagent-not-temp", "x")
	if err := c.Delete("/d/syncagent-not-temp"); err != nil {
		t.Fatal(err)
	}
	if got := verNames(t, c, "/d/syncagent-not-temp"); len(got) != 1 {
		t.Errorf("versions of an ordinary file: %v", got)
	}
}
