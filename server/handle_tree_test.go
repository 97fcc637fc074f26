package server

import (
	"bufio"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// treeLines runs SITE TREE arg as alice and returns the final reply and
// the listing's lines.
func treeLines(t *testing.T, ts *testServer, arg string) (int, string, []string) {
	t.Helper()
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	code, msg, data := c.dataCmd(strings.TrimSpace("SITE TREE "+arg), nil)
	var lines []string
	for l := range strings.SplitSeq(string(data), "\r\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return code, msg, lines
}

// mlsdTree lists dir recursively with MLSD, as a client mirroring a tree
// does, and returns the lines SITE TREE should send for it.
func mlsdTree(t *testing.T, c *ctrl, dir, rel string) []string {
	t.Helper()
	code, msg, data := c.dataCmd("MLSD "+dir, nil)
	if code != 226 {
		t.Fatalf("MLSD %s: %d %q", dir, code, msg)
	}
	var out []string
	for l := range strings.SplitSeq(string(data), "\r\n") {
		if l == "" {
			continue
		}
		facts, name, _ := strings.Cut(l, " ")
		r := path.Join(rel, name)
		out = append(out, facts+" "+r)
		if strings.Contains(facts, "type=dir;") {
			out = append(out, mlsdTree(t, c, path.Join(dir, name), r)...)
		}
	}
	return out
}

func mkTree(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		if strings.HasSuffix(f, "/") {
			if err := os.MkdirAll(f, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("data of "+filepath.Base(f)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTreeEqualsRecursiveMLSD(t *testing.T) {
	ts := startServer(t, testConfig(t))
	home := filepath.Join(ts.Root, "alice")
	mkTree(t, filepath.Join(home, "a/b/c/deep.txt"), filepath.Join(home, "a/one.txt"),
		filepath.Join(home, "a/empty")+"/", filepath.Join(home, "top.txt"),
		filepath.Join(home, "sp ace/x y.txt"), filepath.Join(home, ".versions/hidden.txt"))
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	if msg := c.must(211, "FEAT"); !strings.Contains(msg, "\n SITE TREE") || !strings.Contains(msg, "\n SITE BATCH") {
		t.Fatalf("FEAT does not announce SITE TREE and SITE BATCH: %q", msg)
	}
	for _, dir := range []string{"/", "/a"} {
		want := mlsdTree(t, c, dir, "")
		code, msg, got := treeLines(t, ts, dir)
		if code != 226 {
			t.Fatalf("SITE TREE %s: %d %q", dir, code, msg)
		}
		if !slices.Equal(got, want) {
			t.Errorf("SITE TREE %s:\n%s\nwant (MLSD, recursively):\n%s", dir, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, l := range got {
			if strings.Contains(l, ".versions") || strings.Contains(l, "hidden.txt") {
				t.Errorf("SITE TREE %s shows %q", dir, l)
			}
		}
	}
	// Facts follow OPTS MLST, as for MLSD.
	c.must(200, "OPTS MLST type;")
	c.must(250, "CWD /a")
	code, msg, data := c.dataCmd("SITE TREE", nil)
	if code != 226 || !strings.HasPrefix(string(data), "type=dir; b\r\ntype=dir; b/c\r\ntype=file; b/c/deep.txt\r\n") {
		t.Errorf("SITE TREE in /a with type only: %d %q\n%s", code, msg, data)
	}
}

func TestTreeHostile(t *testing.T) {
	ts := startServer(t, testConfig(t))
	home := filepath.Join(ts.Root, "alice")
	outside := t.TempDir()
	mkTree(t, filepath.Join(outside, "secret/leak-marker.txt"), filepath.Join(home, "in/real/file.txt"))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(outside, filepath.Join(home, "in/out-link")))
	must(os.Symlink(filepath.Join(home, "in/real"), filepath.Join(home, "in/in-link")))
	must(os.Symlink("../../..", filepath.Join(home, "in/up-link")))

	t.Run("symlinks listed as MLSD does, never followed", func(t *testing.T) {
		code, msg, lines := treeLines(t, ts, "/in")
		if code != 226 {
			t.Fatalf("reply %d %q", code, msg)
		}
		var names []string
		for _, l := range lines {
			_, name, _ := strings.Cut(l, " ")
			names = append(names, name)
			if strings.Contains(name, "link/") || strings.Contains(l, "leak-marker") {
				t.Errorf("followed a link: %q", l)
			}
		}
		// Entries come in the file system's order, a directory before
		// its contents.
		if i := slices.Index(names, "real"); i < 0 || slices.Index(names, "real/file.txt") != i+1 {
			t.Errorf("real/file.txt does not follow real: %q", names)
		}
		slices.Sort(names)
		want := []string{"in-link", "out-link", "real", "real/file.txt", "up-link"}
		if !slices.Equal(names, want) {
			t.Errorf("names %q, want %q", names, want)
		}
	})
	t.Run("paths outside the jail", func(t *testing.T) {
		for _, arg := range []string{"/../../..", "../..", "/in/out-link", "/in/up-link", "/in/out-link/secret"} {
			code, msg, lines := treeLines(t, ts, arg)
			for _, l := range lines {
				if strings.Contains(l, "leak-marker") || strings.Contains(l, "secret") || strings.Contains(l, "passwd") {
					t.Errorf("SITE TREE %s leaks %q", arg, l)
				}
			}
			if strings.Contains(arg, "link") && code != 501 && code/100 != 5 {
				t.Errorf("SITE TREE %s: %d %q, want a refusal", arg, code, msg)
			}
		}
	})
	t.Run("missing directory and file", func(t *testing.T) {
		if code, msg, _ := treeLines(t, ts, "/nope"); code != 550 {
			t.Errorf("missing: %d %q", code, msg)
		}
		if code, msg, _ := treeLines(t, ts, "/in/real/file.txt"); code != 501 {
			t.Errorf("file: %d %q", code, msg)
		}
	})
	t.Run("deeper than the limit", func(t *testing.T) {
		deep := filepath.Join(home, "deep")
		p := deep
		for i := 0; i <= treeMaxDepth; i++ {
			p = filepath.Join(p, "d")
		}
		must(os.MkdirAll(p, 0o755))
		code, msg, lines := treeLines(t, ts, "/deep")
		if code != 451 || !strings.Contains(msg, "deeper") {
			t.Errorf("deep tree: %d %q", code, msg)
		}
		if len(lines) != treeMaxDepth {
			t.Errorf("deep tree sent %d lines before stopping, want %d", len(lines), treeMaxDepth)
		}
		// One level less is listed whole.
		must(os.Remove(p))
		if code, msg, lines := treeLines(t, ts, "/deep"); code != 226 || len(lines) != treeMaxDepth {
			t.Errorf("tree at the limit: %d %q, %d lines", code, msg, len(lines))
		}
	})
	t.Run("unreadable directory", func(t *testing.T) {
		mkTree(t, filepath.Join(home, "locked/inner/x.txt"), filepath.Join(home, "locked/z.txt"))
		if os.Geteuid() == 0 {
			// Root reads every directory: fail it the way a permission
			// error would.
			treeReadDirHook = func(p string) error {
				if p == "/locked/inner" {
					return fmt.Errorf("readdir %s: %w", p, fs.ErrPermission)
				}
				return nil
			}
			t.Cleanup(func() { treeReadDirHook = nil })
		} else {
			must(os.Chmod(filepath.Join(home, "locked/inner"), 0))
			t.Cleanup(func() { os.Chmod(filepath.Join(home, "locked/inner"), 0o755) })
		}
		code, msg, lines := treeLines(t, ts, "/locked")
		if code != 451 || !strings.Contains(msg, `"inner"`) {
			t.Errorf("unreadable: %d %q", code, msg)
		}
		for _, l := range lines {
			if strings.HasSuffix(l, " z.txt") {
				t.Errorf("listing went on after the unreadable directory: %q", l)
			}
		}
	})
}

// TestTreeStopsWhenDataConnectionCloses: a client that stops reading a
// big tree ends the listing, and the session goes on.
func TestTreeStopsWhenDataConnectionCloses(t *testing.T) {
	ts := startServer(t, testConfig(t))
	home := filepath.Join(ts.Root, "alice")
	for i := range 200 {
		must := os.MkdirAll(filepath.Join(home, "big", fmt.Sprintf("dir-with-a-long-name-%03d", i)), 0o755)
		if must != nil {
			t.Fatal(must)
		}
		for j := range 20 {
			os.WriteFile(filepath.Join(home, "big", fmt.Sprintf("dir-with-a-long-name-%03d/file-%02d", i, j)), nil, 0o644)
		}
	}
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	for _, stop := range []string{"close", "abor"} {
		addr := c.epsv()
		dc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if code, msg := c.send("SITE TREE /big"); code != 150 {
			t.Fatalf("SITE TREE: %d %q", code, msg)
		}
		dc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := bufio.NewReader(dc).ReadString('\n'); err != nil {
			t.Fatalf("first line: %v", err)
		}
		if stop == "close" {
			dc.(*net.TCPConn).SetLinger(0)
			dc.Close()
			// 226 is possible if the whole tree fit in socket buffers.
			if code, msg := c.send2(); code != 426 && code != 226 {
				t.Errorf("after close: %d %q", code, msg)
			}
		} else {
			code, msg := c.send("ABOR")
			for code != 226 && code != 225 && code/100 == 4 {
				code, msg = c.send2()
			}
			if code != 226 && code != 225 {
				t.Errorf("ABOR: %d %q", code, msg)
			}
			dc.Close()
		}
	}
	c.must(200, "NOOP")
	if code, msg, _ := treeLines(t, ts, "/big"); code != 226 {
		t.Errorf("tree after stops: %d %q", code, msg)
	}
}
