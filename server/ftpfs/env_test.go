package ftpfs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// testEnv is a storage root with user alice's jail open, a sibling home
// (bob), server data, and files outside the storage root, all of which
// alice must never reach.
type testEnv struct {
	base    string // holds root/ and outside/
	root    string
	homeDir string // alice's home, OS path
	tmpDir  string
	fs      *FS
	before  string // snapshot of everything alice must not touch
}

// Content of the files alice must never read.
const (
	outsideSecret = "OUTSIDE-SECRET"
	siblingSecret = "SIBLING-SECRET"
	serverSecret  = "SERVER-SECRET"
)

// escapingLinks are symbolic links in alice's home that point outside it.
var escapingLinks = []string{"abs-file", "abs-dir", "rel-file", "rel-dir", "sib-file", "sib-dir", "data-dir"}

func newTestEnv(t testing.TB, opt Options) *testEnv {
	t.Helper()
	base := t.TempDir()
	e := &testEnv{base: base, root: filepath.Join(base, "root")}
	e.homeDir = filepath.Join(e.root, "alice")
	e.tmpDir = filepath.Join(e.root, ".syncserver", "tmp")
	write := func(p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(base, "outside", "secret.txt"), outsideSecret)
	write(filepath.Join(base, "outside", "dir", "inner.txt"), outsideSecret)
	write(filepath.Join(e.root, "bob", "secret.txt"), siblingSecret)
	write(filepath.Join(e.root, ".syncserver", "versions", "x"), serverSecret)
	var err error
	if e.fs, err = Open(e.root, "alice", opt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.fs.Close() })
	write(filepath.Join(e.homeDir, "victim.txt"), "victim")
	write(filepath.Join(e.homeDir, "sub", "file.txt"), "in sub")
	if err := os.Mkdir(filepath.Join(e.homeDir, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"abs-file": filepath.Join(base, "outside", "secret.txt"),
		"abs-dir":  filepath.Join(base, "outside", "dir"),
		"rel-file": "../../outside/secret.txt",
		"rel-dir":  "../../outside/dir",
		"sib-file": "../bob/secret.txt",
		"sib-dir":  "../bob",
		"data-dir": "../.syncserver",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(e.homeDir, name)); err != nil {
			t.Skipf("cannot create symbolic links here: %v", err)
		}
	}
	e.before = e.snapshot(t)
	return e
}

// snapshot describes every file outside alice's home and the temp dir:
// names, types, sizes, mtimes, content and link targets.
func (e *testEnv) snapshot(t testing.TB) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(e.base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == e.homeDir || p == e.tmpDir {
			return filepath.SkipDir
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v %d %d", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += " " + string(b)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			line += " -> " + target
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// checkUntouched fails the test if anything alice must not reach changed,
// or if an upload left a temporary file behind.
func (e *testEnv) checkUntouched(t testing.TB, what string) {
	t.Helper()
	if after := e.snapshot(t); after != e.before {
		t.Fatalf("%s changed files outside the home:\nbefore:\n%s\nafter:\n%s", what, e.before, after)
	}
	e.checkTempEmpty(t, what)
}

func (e *testEnv) checkTempEmpty(t testing.TB, what string) {
	t.Helper()
	ents, err := os.ReadDir(e.tmpDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Fatalf("%s left %d files in the temp dir, first %s", what, len(ents), ents[0].Name())
	}
}

// readHome reads a file of alice's home directly, for assertions.
func (e *testEnv) readHome(t testing.TB, vpath string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.homeDir, filepath.FromSlash(vpath)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noSecret fails if data read through the jail is one of the secrets.
func noSecret(t testing.TB, what string, data []byte) {
	t.Helper()
	if strings.Contains(string(data), "SECRET") {
		t.Fatalf("%s read a file outside the home: %q", what, data)
	}
}

// tryEverything runs every FS method on arg, in an order that lets the
// destructive ones run last, and reports which calls succeeded. It fails
// the test if any read returns data from outside the home.
func (e *testEnv) tryEverything(t testing.TB, arg string) []string {
	t.Helper()
	f := e.fs
	var ok []string
	note := func(op string, err error) {
		if err == nil {
			ok = append(ok, op)
		}
	}
	for _, cwd := range []string{"/", "/sub"} {
		if v, err := Resolve(cwd, arg); err == nil {
			if _, err := f.Stat(v); err == nil {
				ok = append(ok, "stat "+cwd)
			}
		}
	}
	_, err := f.Stat(arg)
	note("stat", err)
	infos, err := f.ReadDir(arg)
	note("readdir", err)
	for _, fi := range infos {
		if fi.Name() == "inner.txt" || fi.Name() == "versions" {
			t.Fatalf("ReadDir(%q) listed %q from outside the home", arg, fi.Name())
		}
	}
	if r, err := f.Open(arg); err == nil {
		b := make([]byte, 64)
		n, _ := r.Read(b)
		r.Close()
		noSecret(t, fmt.Sprintf("Open(%q)", arg), b[:n])
		ok = append(ok, "open")
	}
	for _, m := range []struct {
		mode   CreateMode
		offset int64
	}{{CreateTruncate, 0}, {CreateAppend, 0}, {CreateTruncate, 1}, {CreateUnique, 0}} {
		u, err := f.Create(arg, m.mode, m.offset)
		if err != nil {
			continue
		}
		if _, err := u.File().Seek(0, 0); err == nil {
			b := make([]byte, 64)
			n, _ := u.File().Read(b)
			noSecret(t, fmt.Sprintf("Create(%q, %d)", arg, m.mode), b[:n])
		}
		u.File().WriteString("PAYLOAD")
		note(fmt.Sprintf("create %d", m.mode), u.Commit())
	}
	note("mkdir", f.Mkdir(arg))
	note("chtimes", f.Chtimes(arg, time.Unix(1e9, 0)))
	note("rename from", f.Rename(arg, "/renamed"))
	f.Rename("/renamed", arg) // put it back if it moved
	if _, err := f.Stat("/victim.txt"); err != nil {
		os.WriteFile(filepath.Join(e.homeDir, "victim.txt"), []byte("victim"), 0o644)
	}
	note("rename to", f.Rename("/victim.txt", arg))
	note("remove", f.Remove(arg))
	note("rmdir", f.RemoveDir(arg))
	return ok
}
