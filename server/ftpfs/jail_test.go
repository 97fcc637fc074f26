package ftpfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hostilePaths is the traversal corpus: arguments a malicious client might
// send to get out of its home.
func hostilePaths() []string {
	return []string{
		"..", "../", "../..", "/..", "/../..", "../../etc/passwd", "a/../../..",
		"sub/../../bob/secret.txt", "./../.", "...", "..../", ".. ", " ..",
		`\..\..`, `..\x`, `..\\x`, `..\secret.txt`, `C:\Windows`, `\\server\share`,
		"a\x00b", "\x00", "..\x00/", "secret.txt\x00.jpg",
		"a\r\nDELE victim.txt", "x\n", "\t", "\x7f", "\x1b[2J",
		"%2e%2e", "%2e%2e/%2e%2e/outside/secret.txt", "..%2f..%2fbob",
		"/etc/passwd", "//etc", "///", "//../bob/secret.txt", "C:/Windows", "~", "~root",
		".syncserver", "/.syncserver/tmp", "/../.syncserver/tmp", "../.syncserver/versions/x",
		"\u2024\u2024", "\u2024\u2024/\u2024\u2024/bob", "\uff0e\uff0e/\uff0e\uff0e", "\u2025", "..\u2215..",
		"/proc/self/root/etc/passwd", "/dev/null",
		strings.Repeat("a", 300), strings.Repeat("../", 2000) + "etc", strings.Repeat("d/", 3000),
		"abs-file", "rel-file", "sib-file", "abs-dir", "rel-dir", "sib-dir", "data-dir",
		"abs-dir/inner.txt", "rel-dir/inner.txt", "sib-dir/secret.txt", "data-dir/versions/x",
		"abs-dir/new.txt", "sib-dir/new.txt", "data-dir/tmp/new", "abs-dir/../secret.txt",
		"sub/../abs-dir/inner.txt", "./abs-dir/./inner.txt",
	}
}

func TestTraversalCorpus(t *testing.T) {
	e := newTestEnv(t, Options{})
	e.hostileAbsolute(t)
	for _, arg := range hostilePaths() {
		e.tryEverything(t, arg)
		e.checkUntouched(t, "corpus entry "+strings.ToValidUTF8(arg[:min(len(arg), 40)], "?"))
	}
}

// hostileAbsolute adds the real OS paths of the secrets to the corpus.
func (e *testEnv) hostileAbsolute(t *testing.T) {
	for _, p := range []string{
		filepath.Join(e.base, "outside", "secret.txt"),
		filepath.Join(e.root, "bob", "secret.txt"),
		filepath.Join(e.root, ".syncserver", "versions", "x"),
	} {
		e.tryEverything(t, filepath.ToSlash(p))
		e.checkUntouched(t, "absolute path "+p)
	}
}

// TestEscapingLinksRefused checks that every method refuses a symbolic
// link that leads out of the home, whether it is the last component or an
// intermediate one.
func TestEscapingLinksRefused(t *testing.T) {
	e := newTestEnv(t, Options{})
	for _, link := range escapingLinks {
		isDir := strings.HasSuffix(link, "-dir")
		// The link itself may be listed (Lstat), but never followed.
		fi, err := e.fs.Stat("/" + link)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("Stat(%s) = %v, %v; want the link itself", link, fi, err)
		}
		args := []string{"/" + link}
		if isDir {
			args = append(args, "/"+link+"/inner.txt", "/"+link+"/secret.txt", "/"+link+"/new.txt", "/"+link+"/versions/x")
		}
		for _, arg := range args {
			ok := strings.Join(e.tryEverything(t, arg), ",")
			// Stat shows the link itself; STOU stores next to it, as link.1.
			if want := "stat /,stat /sub,stat,create 2"; arg == "/"+link && ok != want || arg != "/"+link && ok != "" {
				t.Errorf("through %s: these calls succeeded: %v", arg, ok)
			}
			e.checkUntouched(t, "link "+arg)
			if _, err := os.Lstat(filepath.Join(e.homeDir, link)); err != nil {
				t.Fatalf("link %s was removed or renamed through the jail: %v", link, err)
			}
		}
		if _, err := e.fs.Create("/"+link, CreateTruncate, 0); !errors.Is(err, ErrPermission) {
			t.Errorf("Create(%s) = %v, want ErrPermission", link, err)
		}
	}
}

// TestCommitAfterLinkSwap simulates a local user who replaces the upload's
// directory, or its name, with a link out of the home while it is being
// received: the commit must not follow either.
func TestCommitAfterLinkSwap(t *testing.T) {
	e := newTestEnv(t, Options{})
	os.Mkdir(filepath.Join(e.homeDir, "swap"), 0o755)
	u, err := e.fs.Create("/swap/new.txt", CreateTruncate, 0)
	if err != nil {
		t.Fatal(err)
	}
	u.File().WriteString("PAYLOAD")
	os.Remove(filepath.Join(e.homeDir, "swap"))
	os.Symlink(filepath.Join(e.base, "outside", "dir"), filepath.Join(e.homeDir, "swap"))
	if err := u.Commit(); !errors.Is(err, ErrPermission) {
		t.Errorf("Commit through a swapped directory = %v, want ErrPermission", err)
	}
	e.checkUntouched(t, "commit into swapped dir")

	u, err = e.fs.Create("/target.txt", CreateTruncate, 0)
	if err != nil {
		t.Fatal(err)
	}
	u.File().WriteString("PAYLOAD")
	os.Symlink(filepath.Join(e.base, "outside", "secret.txt"), filepath.Join(e.homeDir, "target.txt"))
	u.Commit() // refusing and replacing the link are both safe
	e.checkUntouched(t, "commit onto swapped name")
}

func TestOpenRejectsHome(t *testing.T) {
	root := t.TempDir()
	for _, home := range []string{"", ".", "./", "..", "../x", "/abs", "a/../..", ".syncserver", ".syncserver/tmp", ".SyncServer", "a\x00", `a\..\..`} {
		if f, err := Open(root, home, Options{}); err == nil {
			f.Close()
			t.Errorf("Open(root, %q) succeeded", home)
		}
	}
	if _, err := os.Stat(filepath.Join(root, ".syncserver")); err == nil {
		t.Errorf("a refused home created the data directory")
	}
	if _, err := Open(root, "alice", Options{TempDir: filepath.Join(root, "alice", "tmp")}); err == nil {
		t.Errorf("a temp dir inside the home was accepted")
	}
	f, err := Open(root, "team/alice", Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, dir := range []string{"team/alice", ".syncserver/tmp"} {
		if fi, err := os.Stat(filepath.Join(root, dir)); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want a 0700 directory", dir, fi, err)
		}
	}
}

func TestReadOnly(t *testing.T) {
	e := newTestEnv(t, Options{ReadOnly: true})
	f := e.fs
	checks := map[string]error{
		"mkdir":   f.Mkdir("/new"),
		"remove":  f.Remove("/victim.txt"),
		"rmdir":   f.RemoveDir("/emptydir"),
		"rename":  f.Rename("/victim.txt", "/x"),
		"chtimes": f.Chtimes("/victim.txt", time.Unix(1e9, 0)),
	}
	for _, mode := range []CreateMode{CreateTruncate, CreateAppend, CreateUnique} {
		_, err := f.Create("/victim.txt", mode, 0)
		checks["create"] = err
	}
	for op, err := range checks {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only FS = %v, want ErrReadOnly", op, err)
		}
	}
	if r, err := f.Open("/victim.txt"); err != nil {
		t.Errorf("Open on a read-only FS: %v", err)
	} else {
		r.Close()
	}
	if e.readHome(t, "victim.txt") != "victim" {
		t.Errorf("read-only FS changed a file")
	}
	e.checkUntouched(t, "read-only")
}
