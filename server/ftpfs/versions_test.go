package ftpfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/syncagent/syncagent/server/versions"
)

// versionEnv is a storage root with alice's jail open on a version store.
type versionEnv struct {
	root  string
	home  string // alice's home, OS path
	store *versions.Store
	fs    *FS
}

func newVersionEnv(t *testing.T, keep int) *versionEnv {
	t.Helper()
	e := &versionEnv{root: t.TempDir()}
	e.home = filepath.Join(e.root, "alice")
	var err error
	if e.store, err = versions.Open(filepath.Join(e.root, dataDir, "versions"), versions.Options{Keep: keep}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	if e.fs, err = Open(e.root, "alice", Options{Versions: e.store}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.fs.Close() })
	return e
}

// contents returns the versions of vpath, oldest first.
func (e *versionEnv) contents(t *testing.T, vpath string) []string {
	t.Helper()
	vs, err := e.store.List("alice", vpath)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		f, err := e.store.Open("alice", vpath+"/"+v.Name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		out = append(out, string(b))
	}
	return out
}

func (e *versionEnv) write(t *testing.T, rel, content string) {
	t.Helper()
	p := filepath.Join(e.home, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCommitKeepsNewestVersions(t *testing.T) {
	e := newVersionEnv(t, 3)
	for _, c := range []string{"v0", "v1", "v2", "v3", "v4", "v5"} {
		upload(t, e.fs, "/a.txt", CreateTruncate, 0, c)
	}
	if got := readFile(t, e.fs, "/a.txt"); got != "v5" {
		t.Fatalf("current = %q", got)
	}
	if got, want := e.contents(t, "/a.txt"), []string{"v2", "v3", "v4"}; !equal(got, want) {
		t.Fatalf("versions = %q, want %q", got, want)
	}
	// APPE appends in place: the content before it is still the file's
	// beginning, so it keeps no version.
	upload(t, e.fs, "/a.txt", CreateAppend, 0, "+more")
	if got, want := e.contents(t, "/a.txt"), []string{"v2", "v3", "v4"}; !equal(got, want) {
		t.Fatalf("after append: versions = %q, want %q", got, want)
	}
	if got := readFile(t, e.fs, "/a.txt"); got != "v5+more" {
		t.Fatalf("after append: current = %q", got)
	}
	// STOU never replaces, so it keeps nothing.
	upload(t, e.fs, "/a.txt", CreateUnique, 0, "unique")
	if got := e.contents(t, "/a.txt.1"); len(got) != 0 {
		t.Fatalf("STOU kept %q", got)
	}
}

func readFile(t *testing.T, f *FS, vpath string) string {
	t.Helper()
	file, err := f.Open(vpath)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	b, _ := io.ReadAll(file)
	return string(b)
}

func TestRemoveKeepsVersion(t *testing.T) {
	e := newVersionEnv(t, 5)
	e.write(t, "d/f.txt", "precious")
	if err := e.fs.Remove("/d/f.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fs.Stat("/d/f.txt"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("file still there: %v", err)
	}
	if got := e.contents(t, "/d/f.txt"); !equal(got, []string{"precious"}) {
		t.Fatalf("versions = %q", got)
	}
	// A symbolic link has no content of its own: it is removed, not kept,
	// and its target is untouched.
	e.write(t, "target.txt", "target")
	if err := os.Symlink("target.txt", filepath.Join(e.home, "link")); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	if err := e.fs.Remove("/link"); err != nil {
		t.Fatal(err)
	}
	if got := e.contents(t, "/link"); len(got) != 0 {
		t.Fatalf("link kept as %q", got)
	}
	if got := readFile(t, e.fs, "/target.txt"); got != "target" {
		t.Fatalf("target = %q", got)
	}
}

func TestRenameOverKeepsVersion(t *testing.T) {
	e := newVersionEnv(t, 5)
	e.write(t, "old.txt", "old content")
	e.write(t, "new.txt", "new content")
	if err := e.fs.Rename("/new.txt", "/old.txt"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, e.fs, "/old.txt"); got != "new content" {
		t.Fatalf("renamed file = %q", got)
	}
	if got := e.contents(t, "/old.txt"); !equal(got, []string{"old content"}) {
		t.Fatalf("versions = %q", got)
	}
	// A rename to a free name keeps nothing.
	if err := e.fs.Rename("/old.txt", "/free.txt"); err != nil {
		t.Fatal(err)
	}
	if got := e.contents(t, "/free.txt"); len(got) != 0 {
		t.Fatalf("rename to a free name kept %q", got)
	}
	// A failed rename (a directory over a file) leaves the target and no version.
	if err := os.Mkdir(filepath.Join(e.home, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := e.fs.Rename("/dir", "/free.txt"); err == nil {
		t.Fatal("renamed a directory over a file")
	}
	if got := readFile(t, e.fs, "/free.txt"); got != "new content" {
		t.Fatalf("target after failed rename = %q", got)
	}
	if got := e.contents(t, "/free.txt"); len(got) != 0 {
		t.Fatalf("failed rename kept %q", got)
	}
}

func TestRemoveDirTreeKeepsVersions(t *testing.T) {
	e := newVersionEnv(t, 5)
	files := map[string]string{"t/a": "A", "t/sub/b": "B", "t/sub/deeper/c": "C"}
	for rel, c := range files {
		e.write(t, rel, c)
	}
	if err := os.Mkdir(filepath.Join(e.home, "t", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(e.root, "outside.txt")
	os.WriteFile(outside, []byte("outside"), 0o644)
	linked := os.Symlink(outside, filepath.Join(e.home, "t", "sub", "escape")) == nil
	if err := e.fs.RemoveDir("/t"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(e.home, "t")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("tree still there: %v", err)
	}
	for rel, c := range files {
		if got := e.contents(t, "/"+rel); !equal(got, []string{c}) {
			t.Errorf("versions of %s = %q", rel, got)
		}
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != "outside" {
		t.Errorf("link target changed: %q, %v", b, err)
	}
	if linked {
		if got := e.contents(t, "/t/sub/escape"); len(got) != 0 {
			t.Errorf("escaping link kept as %q", got)
		}
	}
	// The home itself is never removed.
	if err := e.fs.RemoveDir("/"); !errors.Is(err, ErrPermission) {
		t.Errorf("RemoveDir(/) = %v", err)
	}
}

func TestRemoveDirWithoutVersionsNeedsEmpty(t *testing.T) {
	root := t.TempDir()
	f, err := Open(root, "alice", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	os.MkdirAll(filepath.Join(root, "alice", "t"), 0o755)
	os.WriteFile(filepath.Join(root, "alice", "t", "a"), []byte("A"), 0o644)
	if err := f.RemoveDir("/t"); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("RemoveDir of a non-empty directory = %v, want ErrNotEmpty", err)
	}
	if err := f.Remove("/t/a"); err != nil {
		t.Fatal(err)
	}
	if err := f.RemoveDir("/t"); err != nil {
		t.Fatal(err)
	}
}

// TestReplaceNeverHidesName checks that while a file is replaced again and
// again (and its old contents kept), a reader always finds some complete
// content under its name.
func TestReplaceNeverHidesName(t *testing.T) {
	e := newVersionEnv(t, 2)
	e.write(t, "hot", "initial")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var readErr error
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			f, err := e.fs.Open("/hot")
			if err != nil {
				readErr = err
				return
			}
			f.Close()
		}
	})
	for range 50 {
		upload(t, e.fs, "/hot", CreateTruncate, 0, "content")
	}
	close(stop)
	wg.Wait()
	if readErr != nil {
		t.Fatalf("reader saw the name vanish: %v", readErr)
	}
	if got := e.contents(t, "/hot"); len(got) != 2 {
		t.Fatalf("versions = %q, want 2", got)
	}
}

// TestConcurrentReplacesKeepEveryVersion has several writers replace one
// file at once; every replaced content becomes its own version even when
// they land in the same millisecond.
func TestConcurrentReplacesKeepEveryVersion(t *testing.T) {
	e := newVersionEnv(t, 100)
	e.write(t, "f", "start")
	const writers, each = 4, 5
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				u, err := e.fs.Create("/f", CreateTruncate, 0)
				if err != nil {
					t.Error(err)
					return
				}
				u.File().WriteString("x")
				if err := u.Commit(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := e.contents(t, "/f"); len(got) != writers*each {
		t.Fatalf("%d versions, want %d", len(got), writers*each)
	}
}

// BenchmarkCommitReplace measures replacing a small file with and without
// keeping the old content as a version (a hard link, not a copy).
func BenchmarkCommitReplace(b *testing.B) {
	for _, withVersions := range []bool{false, true} {
		b.Run(map[bool]string{false: "no-versions", true: "versions"}[withVersions], func(b *testing.B) {
			root := b.TempDir()
			var opt Options
			if withVersions {
				st, err := versions.Open(filepath.Join(root, dataDir, "versions"), versions.Options{Keep: 5})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				opt.Versions = st
			}
			f, err := Open(root, "alice", opt)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.ReportAllocs()
			for b.Loop() {
				upload(b, f, "/bench.txt", CreateTruncate, 0, "content")
			}
		})
	}
}
