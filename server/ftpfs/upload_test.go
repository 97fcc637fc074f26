package ftpfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// upload stores content at vpath and commits it.
func upload(t testing.TB, f *FS, vpath string, mode CreateMode, offset int64, content string) *Upload {
	t.Helper()
	u, err := f.Create(vpath, mode, offset)
	if err != nil {
		t.Fatalf("Create(%s): %v", vpath, err)
	}
	if _, err := u.File().WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(); err != nil {
		t.Fatalf("Commit(%s): %v", vpath, err)
	}
	return u
}

func TestCommitAndAbort(t *testing.T) {
	e := newTestEnv(t, Options{})
	u, err := e.fs.Create("/victim.txt", CreateTruncate, 0)
	if err != nil {
		t.Fatal(err)
	}
	u.File().WriteString("new content")
	if got := e.readHome(t, "victim.txt"); got != "victim" {
		t.Fatalf("data visible before Commit: %q", got)
	}
	if err := u.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := e.readHome(t, "victim.txt"); got != "victim" {
		t.Fatalf("previous file changed by an aborted upload: %q", got)
	}
	if err := u.Commit(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Commit after Abort = %v, want os.ErrClosed", err)
	}
	e.checkTempEmpty(t, "abort")

	u = upload(t, e.fs, "/victim.txt", CreateTruncate, 0, "replaced")
	if got := e.readHome(t, "victim.txt"); got != "replaced" {
		t.Fatalf("after Commit: %q", got)
	}
	if err := u.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if got := e.readHome(t, "victim.txt"); got != "replaced" {
		t.Fatalf("Abort after Commit undid it: %q", got)
	}
	upload(t, e.fs, "/sub/new.txt", CreateTruncate, 0, "fresh")
	if got := e.readHome(t, "sub/new.txt"); got != "fresh" {
		t.Fatalf("new file: %q", got)
	}
	ents, _ := os.ReadDir(e.homeDir)
	for _, d := range ents {
		if d.Name() != "victim.txt" && d.Name() != "sub" && d.Name() != "emptydir" && !isLink(d.Name()) {
			t.Errorf("debris in the home: %s", d.Name())
		}
	}
	e.checkUntouched(t, "commit and abort")

	// Close aborts what is still open.
	_, err = e.fs.Create("/pending.txt", CreateTruncate, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.fs.Close()
	e.checkTempEmpty(t, "close")
	if _, err := os.Stat(filepath.Join(e.homeDir, "pending.txt")); err == nil {
		t.Errorf("Close committed a pending upload")
	}
}

func isLink(name string) bool {
	for _, l := range escapingLinks {
		if l == name {
			return true
		}
	}
	return false
}

func TestCreateErrors(t *testing.T) {
	e := newTestEnv(t, Options{})
	tests := []struct {
		vpath  string
		mode   CreateMode
		offset int64
		want   error
	}{
		{"/", CreateTruncate, 0, ErrIsDir},
		{"/sub", CreateTruncate, 0, ErrIsDir},
		{"/sub", CreateAppend, 0, ErrIsDir},
		{"/missing/x", CreateTruncate, 0, ErrNotExist},
		{"/missing/x", CreateUnique, 0, ErrNotExist},
		{"/victim.txt/x", CreateTruncate, 0, ErrNotDir},
		{"/victim.txt", CreateTruncate, 7, ErrBadOffset},
		{"/victim.txt", CreateTruncate, -1, ErrBadOffset},
		{"/new.txt", CreateTruncate, 1, ErrBadOffset},
		{"/new.txt", CreateUnique, 1, ErrBadOffset},
		{"a\x00", CreateTruncate, 0, ErrInvalidPath},
	}
	for _, tt := range tests {
		if u, err := e.fs.Create(tt.vpath, tt.mode, tt.offset); !errors.Is(err, tt.want) {
			t.Errorf("Create(%q, %d, %d) = %v, want %v", tt.vpath, tt.mode, tt.offset, err, tt.want)
			if u != nil {
				u.Abort()
			}
		}
	}
	e.checkUntouched(t, "create errors")
}

func TestAppendAndOffset(t *testing.T) {
	e := newTestEnv(t, Options{})
	upload(t, e.fs, "/victim.txt", CreateAppend, 0, "+more")
	if got := e.readHome(t, "victim.txt"); got != "victim+more" {
		t.Errorf("append: %q", got)
	}
	upload(t, e.fs, "/fresh.txt", CreateAppend, 0, "first")
	if got := e.readHome(t, "fresh.txt"); got != "first" {
		t.Errorf("append to a new file: %q", got)
	}
	upload(t, e.fs, "/victim.txt", CreateTruncate, 3, "TIM")
	if got := e.readHome(t, "victim.txt"); got != "vicTIM" {
		t.Errorf("offset 3: %q", got)
	}
	upload(t, e.fs, "/victim.txt", CreateTruncate, 6, "!")
	if got := e.readHome(t, "victim.txt"); got != "vicTIM!" {
		t.Errorf("offset at end: %q", got)
	}
	// A large file is copied whole (copy_file_range or read/write).
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<14)
	os.WriteFile(filepath.Join(e.homeDir, "big"), big, 0o644)
	upload(t, e.fs, "/big", CreateTruncate, int64(len(big)-5), "XYZ")
	if got := e.readHome(t, "big"); got != string(big[:len(big)-5])+"XYZ" {
		t.Errorf("offset into a large file: %d bytes, want %d", len(got), len(big)-2)
	}
	e.checkUntouched(t, "append and offset")
}

func TestCreateUnique(t *testing.T) {
	e := newTestEnv(t, Options{})
	want := []string{"/sub/u.txt", "/sub/u.txt.1", "/sub/u.txt.2"}
	for i, name := range want {
		u := upload(t, e.fs, "/sub/u.txt", CreateUnique, 0, fmt.Sprint(i))
		if u.Name() != name {
			t.Errorf("upload %d named %s, want %s", i, u.Name(), name)
		}
	}
	for i, name := range want {
		if got := e.readHome(t, name); got != fmt.Sprint(i) {
			t.Errorf("%s = %q, want %d", name, got, i)
		}
	}
	// Inside a directory; and two open at once never share a name.
	a, err := e.fs.Create("/emptydir", CreateUnique, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.fs.Create("/emptydir", CreateUnique, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name() != "/emptydir/"+uniqueBase || b.Name() != "/emptydir/"+uniqueBase+".1" {
		t.Errorf("unique names in a directory: %s, %s", a.Name(), b.Name())
	}
	// A file taking a's name before it commits moves a to the next free one.
	os.WriteFile(filepath.Join(e.homeDir, "emptydir", uniqueBase), []byte("other"), 0o644)
	a.File().WriteString("a")
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if a.Name() != "/emptydir/"+uniqueBase+".2" {
		t.Errorf("after a conflict: %s", a.Name())
	}
	if got := e.readHome(t, "emptydir/"+uniqueBase); got != "other" {
		t.Errorf("a unique upload replaced a file: %q", got)
	}
	b.Abort()
	e.checkUntouched(t, "unique")
}

// TestConcurrentUploads races uploads of distinct contents to one name:
// every reader sees one whole version, and the last commit wins.
func TestConcurrentUploads(t *testing.T) {
	e := newTestEnv(t, Options{})
	const writers, rounds, size = 4, 10, 64 << 10
	versions := make(map[string]bool)
	for w := range writers {
		for r := range rounds {
			versions[string(bytes.Repeat([]byte{byte('A' + w), byte('a' + r)}, size/2))] = true
		}
	}
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		lastCommit string
		errs       = make(chan error, writers*rounds*2)
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				content := bytes.Repeat([]byte{byte('A' + w), byte('a' + r)}, size/2)
				u, err := e.fs.Create("/race.bin", CreateTruncate, 0)
				if err != nil {
					errs <- err
					return
				}
				u.File().Write(content)
				mu.Lock() // serialise commits to know which was last
				if err := u.Commit(); err != nil {
					errs <- err
				}
				lastCommit = string(content)
				mu.Unlock()
				rf, err := e.fs.Open("/race.bin")
				if err != nil {
					errs <- err
					continue
				}
				got, err := io.ReadAll(rf)
				rf.Close()
				if err != nil || !versions[string(got)] {
					errs <- fmt.Errorf("read a torn file (%d bytes): %v", len(got), err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := e.readHome(t, "race.bin"); got != lastCommit {
		t.Errorf("last commit did not win")
	}
	e.checkUntouched(t, "concurrent uploads")
}

func TestOperations(t *testing.T) {
	e := newTestEnv(t, Options{})
	f := e.fs
	check := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("%s = %v, want %v", what, err, want)
		}
	}
	check("mkdir", f.Mkdir("/d"), nil)
	check("mkdir again", f.Mkdir("/d"), ErrExist)
	check("mkdir /", f.Mkdir("/"), ErrExist)
	check("mkdir no parent", f.Mkdir("/x/y"), ErrNotExist)
	check("remove dir", f.Remove("/d"), ErrIsDir)
	check("remove /", f.Remove("/"), ErrIsDir)
	check("remove missing", f.Remove("/nope"), ErrNotExist)
	check("rmdir file", f.RemoveDir("/victim.txt"), ErrNotDir)
	check("rmdir non-empty", f.RemoveDir("/sub"), ErrNotEmpty)
	check("rmdir non-empty is ErrExist", f.RemoveDir("/sub"), ErrExist)
	check("rmdir /", f.RemoveDir("/"), ErrPermission)
	check("rename missing", f.Rename("/nope", "/x"), ErrNotExist)
	check("rename /", f.Rename("/", "/x"), ErrPermission)
	check("rename into itself", f.Rename("/sub", "/sub/inner"), ErrInvalidPath)
	check("rename dir", f.Rename("/d", "/sub/d2"), nil)
	check("rename over file", f.Rename("/sub/file.txt", "/victim.txt"), nil)
	if got := e.readHome(t, "victim.txt"); got != "in sub" {
		t.Errorf("rename did not replace: %q", got)
	}
	check("rmdir", f.RemoveDir("/sub/d2"), nil)
	check("remove", f.Remove("/victim.txt"), nil)
	check("stat removed", func() error { _, err := f.Stat("/victim.txt"); return err }(), ErrNotExist)
	mtime := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	check("chtimes", f.Chtimes("/sub", mtime), nil)
	if fi, err := f.Stat("/sub"); err != nil || !fi.ModTime().Equal(mtime) {
		t.Errorf("Stat after Chtimes: %v, %v", fi, err)
	}
	check("chtimes missing", f.Chtimes("/nope", mtime), ErrNotExist)
	check("open dir", func() error { _, err := f.Open("/sub"); return err }(), ErrIsDir)
	check("readdir file", func() error { _, err := f.ReadDir("/emptydir/../sub/../emptydir"); return err }(), nil)
	upload(t, f, "/b", CreateTruncate, 0, "b")
	upload(t, f, "/a", CreateTruncate, 0, "a")
	infos, err := f.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range infos {
		names = append(names, fi.Name())
	}
	want := "[a abs-dir abs-file b data-dir emptydir rel-dir rel-file sib-dir sib-file sub]"
	if fmt.Sprint(names) != want {
		t.Errorf("ReadDir(/) = %v, want %s", names, want)
	}
	_, err = f.ReadDir("/a")
	check("readdir file", err, ErrNotDir)
	e.checkUntouched(t, "operations")
}
