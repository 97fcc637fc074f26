package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// e2eWait bounds every wait of the end-to-end tests.
const e2eWait = 60 * time.Second

// fileMeta is what metaTree records per path: "dir", or a file's size.
type fileMeta struct {
	dir   bool
	size  int64
	mtime time.Time
}

// metaTree lists root without reading file contents. Names in skip (slash
// paths) are left out, as are directories above root.
func metaTree(root string, skip map[string]bool) map[string]fileMeta {
	out := make(map[string]fileMeta)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if skip[rel] || (skip[".syncagent-*"] && strings.HasPrefix(d.Name(), ".syncagent-")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		out[rel] = fileMeta{dir: d.IsDir(), size: fi.Size(), mtime: fi.ModTime()}
		return nil
	})
	return out
}

// hashCache remembers file hashes by path, size and mtime so that a wait
// loop does not re-read a large file that has not changed.
type hashCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *hashCache) hash(p string, m fileMeta) string {
	key := fmt.Sprintf("%s\x00%d\x00%d", p, m.size, m.mtime.UnixNano())
	c.mu.Lock()
	if h, ok := c.m[key]; ok {
		c.mu.Unlock()
		return h
	}
	c.mu.Unlock()
	f, err := os.Open(p)
	if err != nil {
		return "unreadable"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unreadable"
	}
	sum := hex.EncodeToString(h.Sum(nil)[:8])
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]string)
	}
	c.m[key] = sum
	c.mu.Unlock()
	return sum
}

// mirrorDiff compares the trees at local and remote by type, size and
// content hash (streamed, never whole files in memory). Agent temporaries
// on the remote side count as differences. Paths in skip are ignored on
// both sides.
func mirrorDiff(c *hashCache, local, remote string, skip map[string]bool) []string {
	lm, rm := metaTree(local, skip), metaTree(remote, skip)
	var d []string
	for p, l := range lm {
		r, ok := rm[p]
		switch {
		case !ok:
			d = append(d, p+": missing on the server")
		case l.dir != r.dir:
			d = append(d, p+": file on one side, directory on the other")
		case !l.dir && l.size != r.size:
			d = append(d, fmt.Sprintf("%s: %d bytes locally, %d on the server", p, l.size, r.size))
		}
	}
	for p := range rm {
		if _, ok := lm[p]; !ok {
			d = append(d, p+": only on the server")
		}
	}
	if len(d) > 0 {
		return d
	}
	for p, l := range lm {
		if l.dir {
			continue
		}
		lp, rp := filepath.Join(local, filepath.FromSlash(p)), filepath.Join(remote, filepath.FromSlash(p))
		if c.hash(lp, l) != c.hash(rp, rm[p]) {
			d = append(d, p+": content differs")
		}
	}
	return d
}

// waitMirror waits (bounded) until remote mirrors local, ignoring skip.
func waitMirror(t testing.TB, local, remote string, skip ...string) {
	t.Helper()
	sk := make(map[string]bool)
	for _, s := range skip {
		sk[s] = true
	}
	var c hashCache
	deadline := time.Now().Add(e2eWait)
	var d []string
	for time.Now().Before(deadline) {
		if d = mirrorDiff(&c, local, remote, sk); len(d) == 0 {
			return
		}
		time.Sleep(30 * time.Millisecond)
	}
	if len(d) > 20 {
		d = append(d[:20], fmt.Sprintf("... and %d more", len(d)-20))
	}
	t.Fatalf("server did not mirror %s within %s:\n%s", local, e2eWait, strings.Join(d, "\n"))
}

// waitFor polls cond (bounded) and fails the test with what if it never holds.
func e2eWaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", e2eWait, what)
}

// writeRandom writes size random bytes to p in 1 MiB chunks and returns
// their SHA-256.
func writeRandom(t testing.TB, p string, size int64) [32]byte {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		rand.Read(buf[:n])
		h.Write(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		left -= n
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// fileSHA streams a file's SHA-256.
func fileSHA(t testing.TB, p string) [32]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// raceBuild reports whether the test binary was built with -race.
func raceBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// e2eStartAgent runs an agent in the background and returns it with a stop
// function (also called at cleanup).
func e2eStartAgent(t testing.TB, cfg Config) (*Agent, func()) {
	t.Helper()
	a, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			a.Close()
		})
	}
	t.Cleanup(stop)
	return a, stop
}

// temps lists the agent temporaries under dir.
func temps(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".syncagent-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestE2EPushLargeAndManyFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB transfer")
	}
	// Under -race every byte through the in-process server is
	// instrumented (a 100 MB push takes about a minute on 2 cores): the
	// race build sends 16 MB, the plain build the full 100 MB.
	size := int64(100 << 20)
	if raceBuild() {
		size = 16 << 20
	}
	s := startE2EServer(t)
	local := t.TempDir()
	big := writeRandom(t, filepath.Join(local, "big/large.bin"), size)
	for d := range 20 {
		for f := range 100 {
			putFile(t, filepath.Join(local, fmt.Sprintf("small/d%02d/f%03d.txt", d, f)), fmt.Sprintf("file %d of dir %d\n", f, d))
		}
	}
	putFile(t, filepath.Join(local, "empty file"), "")
	putFile(t, filepath.Join(local, "a/b/c/d/e/deep.txt"), "deep")
	putFile(t, filepath.Join(local, "Ünïcødé dir/名前 with spaces.txt"), "unicode")
	os.MkdirAll(filepath.Join(local, "empty dir/nested empty"), 0o755)
	remote := filepath.Join(s.Home, "remote")

	start := time.Now()
	a, _ := e2eStartAgent(t, agentConfig(t, s, local, ModePush))
	waitMirror(t, local, remote)
	t.Logf("pushed %d MB + 2,000 small files in %s (race build: %v)", size>>20, time.Since(start).Round(time.Millisecond), raceBuild())
	if got := fileSHA(t, filepath.Join(remote, "big/large.bin")); got != big {
		t.Fatalf("large file hash on the server %x, want %x", got, big)
	}
	if st := a.Status()[0]; len(st.Problems) > 0 {
		t.Fatalf("problems after the initial push: %v", st.Problems)
	}
	if tmp := temps(remote); len(tmp) > 0 {
		t.Fatalf("temporaries left on the server: %v", tmp)
	}
}

func TestE2EPushEveryLiveChange(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	remote := filepath.Join(s.Home, "remote")
	putFile(t, filepath.Join(local, "edit.txt"), "v1")
	putFile(t, filepath.Join(local, "shrink.txt"), "soon empty")
	putFile(t, filepath.Join(local, "gone.txt"), "deleted soon")
	putFile(t, filepath.Join(local, "old name.txt"), "renamed soon")
	putFile(t, filepath.Join(local, "tree/x/1.txt"), "one")
	putFile(t, filepath.Join(local, "tree/x/2.txt"), "two")
	putFile(t, filepath.Join(local, "tree/y.txt"), "why")
	putFile(t, filepath.Join(local, "becomes-dir"), "a file for now")
	putFile(t, filepath.Join(local, "becomes-file/inner.txt"), "a dir for now")
	putFile(t, filepath.Join(local, "readme.md"), "case")
	e2eStartAgent(t, agentConfig(t, s, local, ModePush))
	waitMirror(t, local, remote)
	// A rename on the server keeps the file's inode; an upload does not.
	inode := func(rel string) os.FileInfo {
		fi, err := os.Stat(filepath.Join(remote, rel))
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	renamed := map[string]string{"old name.txt": "new name.txt", "tree/x/1.txt": "moved tree/x/1.txt",
		"tree/y.txt": "moved tree/y.txt", "readme.md": "README.md"}
	inodes := make(map[string]os.FileInfo)
	for from := range renamed {
		inodes[from] = inode(from)
	}

	steps := []struct {
		name string
		do   func()
	}{
		{"create", func() { putFile(t, filepath.Join(local, "created.txt"), "new") }},
		{"edit", func() { putFile(t, filepath.Join(local, "edit.txt"), "v2, a longer edit") }},
		{"truncate to empty", func() { os.Truncate(filepath.Join(local, "shrink.txt"), 0) }},
		{"delete", func() { os.Remove(filepath.Join(local, "gone.txt")) }},
		{"rename file", func() { os.Rename(filepath.Join(local, "old name.txt"), filepath.Join(local, "new name.txt")) }},
		{"rename dir with contents", func() { os.Rename(filepath.Join(local, "tree"), filepath.Join(local, "moved tree")) }},
		{"mkdir", func() { os.MkdirAll(filepath.Join(local, "made/sub"), 0o755) }},
		{"rmdir", func() { os.Remove(filepath.Join(local, "made/sub")) }},
		{"file replaced by dir", func() {
			os.Remove(filepath.Join(local, "becomes-dir"))
			putFile(t, filepath.Join(local, "becomes-dir/child.txt"), "now a dir")
		}},
		{"dir replaced by file", func() {
			os.RemoveAll(filepath.Join(local, "becomes-file"))
			putFile(t, filepath.Join(local, "becomes-file"), "now a file")
		}},
		{"case-only rename", func() { os.Rename(filepath.Join(local, "readme.md"), filepath.Join(local, "README.md")) }},
	}
	for _, st := range steps {
		st.do()
		waitMirror(t, local, remote)
		t.Logf("%s: mirrored", st.name)
	}
	for from, to := range renamed {
		if !os.SameFile(inode(to), inodes[from]) {
			t.Errorf("%s -> %s was uploaded again, not renamed on the server", from, to)
		}
	}
	if tmp := temps(remote); len(tmp) > 0 {
		t.Fatalf("temporaries left on the server: %v", tmp)
	}
}

func TestE2EPushAppendedWhileUploading(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	remote := filepath.Join(s.Home, "remote")
	name := filepath.Join(local, "growing.log")
	record := bytes.Repeat([]byte("0123456789abcdef"), 256) // 4 KiB
	record[len(record)-1] = '\n'
	writeRandom(t, filepath.Join(local, "pad.bin"), 4<<20) // keeps the pool busy meanwhile
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for range 2048 { // start at 8 MiB so uploads take a while
		f.Write(record)
	}
	e2eStartAgent(t, agentConfig(t, s, local, ModePush))

	// Every version the server ever shows must be a whole number of
	// records: a snapshot the local file really had, never a torn mix.
	var torn []string
	checkRemote := func() {
		fi, err := os.Stat(filepath.Join(remote, "growing.log"))
		if err == nil && fi.Size()%int64(len(record)) != 0 {
			torn = append(torn, fmt.Sprintf("server file has %d bytes", fi.Size()))
		}
	}
	for i := range 150 {
		if _, err := f.Write(record); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			checkRemote()
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.Close()
	waitMirror(t, local, remote)
	if len(torn) > 0 {
		t.Fatalf("torn uploads seen: %v", torn)
	}
	if tmp := temps(remote); len(tmp) > 0 {
		t.Fatalf("temporaries left on the server: %v", tmp)
	}
}

func TestE2EPushReportsBadNamesAndContinues(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	remote := filepath.Join(s.Home, "remote")
	bad := []string{`back\slash.txt`, "new\nline.txt"}
	for _, b := range bad {
		putFile(t, filepath.Join(local, b), "refused")
	}
	for i := range 10 {
		putFile(t, filepath.Join(local, fmt.Sprintf("ok/%d.txt", i)), "fine")
	}
	cfg := agentConfig(t, s, local, ModePush)
	a, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	err = a.Sync(context.Background(), "", false, io.Discard)
	if !errors.Is(err, ErrNotInSync) {
		t.Fatalf("sync with refused names: %v, want ErrNotInSync", err)
	}
	for _, b := range bad {
		if !strings.Contains(err.Error(), b) {
			t.Errorf("error does not name %q: %v", b, err)
		}
	}
	waitMirror(t, local, remote, bad...)
	// The next pass retries them (and still reports them), the rest stays put.
	err = a.Sync(context.Background(), "", false, io.Discard)
	if !errors.Is(err, ErrNotInSync) || !strings.Contains(err.Error(), bad[0]) {
		t.Fatalf("second sync: %v", err)
	}
	for _, b := range bad {
		os.Remove(filepath.Join(local, b))
	}
	if err := a.Sync(context.Background(), "", false, io.Discard); err != nil {
		t.Fatalf("sync once the bad names are gone: %v", err)
	}
	waitMirror(t, local, remote)
}
