package ftpfs

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// commitWithDigests uploads content to vpath through Write and commits it.
func commitWithDigests(t *testing.T, f *FS, vpath, content string) {
	t.Helper()
	u, err := f.Create(vpath, CreateTruncate, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
}

// lookup opens vpath and asks the cache for its digest.
func lookup(t *testing.T, f *FS, vpath string) (sum [sha256.Size]byte, ok bool) {
	t.Helper()
	file, err := f.Open(vpath)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	sum, _, ok = f.digests.LookupSHA256(file)
	return sum, ok
}

func TestDigestCacheFollowsServerOps(t *testing.T) {
	if !identitySupported {
		t.Skip("no file identity on " + runtime.GOOS)
	}
	root := t.TempDir()
	f, err := Open(root, "u", Options{Digests: NewDigestCache(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	content := strings.Repeat("x", 3*writebackChunk/2)
	commitWithDigests(t, f, "/a", content)
	want := sha256.Sum256([]byte(content))
	if sum, ok := lookup(t, f, "/a"); !ok || sum != want {
		t.Fatalf("after commit: ok=%v, sum right=%v", ok, sum == want)
	}
	if err := f.Chtimes("/a", time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if sum, ok := lookup(t, f, "/a"); !ok || sum != want {
		t.Fatalf("after Chtimes: ok=%v", ok)
	}
	if err := f.Rename("/a", "/b"); err != nil {
		t.Fatal(err)
	}
	if sum, ok := lookup(t, f, "/b"); !ok || sum != want {
		t.Fatalf("after Rename: ok=%v", ok)
	}
	// A write behind the server's back: same size, mtime restored.
	p := filepath.Join(root, "u", "b")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.ToUpper(content)), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	if _, ok := lookup(t, f, "/b"); ok {
		t.Fatal("a file changed on disk was answered from the cache")
	}
	// Written through File: not hashed, so not recorded.
	u, err := f.Create("/c", CreateTruncate, 0)
	if err != nil {
		t.Fatal(err)
	}
	u.File().WriteString("direct")
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, ok := lookup(t, f, "/c"); ok {
		t.Fatal("an upload written through File was recorded")
	}
}

func TestDigestCacheBounded(t *testing.T) {
	if !identitySupported {
		t.Skip("no file identity on " + runtime.GOOS)
	}
	root := t.TempDir()
	c := NewDigestCache(3)
	f, err := Open(root, "u", Options{Digests: c})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, name := range []string{"/1", "/2", "/3", "/4", "/5"} {
		commitWithDigests(t, f, name, name)
	}
	if n := len(c.entries); n != 3 {
		t.Fatalf("%d entries, want 3", n)
	}
	if _, ok := lookup(t, f, "/1"); ok {
		t.Error("the oldest entry was not evicted")
	}
	if _, ok := lookup(t, f, "/5"); !ok {
		t.Error("the newest entry is missing")
	}
	var nilCache *DigestCache
	file, _ := f.Open("/5")
	defer file.Close()
	if _, _, ok := nilCache.LookupSHA256(file); ok {
		t.Error("a nil cache answered")
	}
}
