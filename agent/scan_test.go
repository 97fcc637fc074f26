package agent

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/syncagent/syncagent/agent/ignore"
)

// TestScanLocal checks the parallel scan against the tree it was given:
// files and directories, ignored ones and symlinks left out, a subtree
// scan including its own root, and a missing subtree giving nothing.
func TestScanLocal(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"a/b/c.txt", "a/d.txt", "e.txt", "skip/x.txt", "a/b/x.tmp", "f/g/h/i/j.txt"} {
		putFile(t, filepath.Join(root, filepath.FromSlash(p)), strings.Repeat("x", len(p)))
	}
	if err := os.Symlink(filepath.Join(root, "e.txt"), filepath.Join(root, "a", "link")); err != nil {
		t.Fatal(err)
	}
	ig, err := ignore.New([]string{"skip/", "*.tmp"})
	if err != nil {
		t.Fatal(err)
	}
	keys := func(r scanResult) string {
		var ks []string
		for k := range r.Entries {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return strings.Join(ks, " ")
	}
	all := scanLocal(root, "", ig, 0, nil)
	if got, want := keys(all), "a a/b a/b/c.txt a/d.txt e.txt f f/g f/g/h f/g/h/i f/g/h/i/j.txt"; got != want {
		t.Errorf("full scan:\n got %s\nwant %s", got, want)
	}
	if len(all.Unreadable) != 0 {
		t.Errorf("unreadable: %v", all.Unreadable)
	}
	if all.Dirs != 6 { // a a/b f f/g f/g/h f/g/h/i
		t.Errorf("full scan counted %d directories, want 6", all.Dirs)
	}
	if sub := scanLocal(root, "f/g", ig, 0, nil); sub.Dirs != 3 { // f/g f/g/h f/g/h/i
		t.Errorf("subtree scan counted %d directories, want 3", sub.Dirs)
	}
	if e := all.Entries["a/b/c.txt"]; e.Dir || e.Size != int64(len("a/b/c.txt")) || e.entry().MTime.IsZero() {
		t.Errorf("a/b/c.txt: %+v", e)
	}
	if e := all.Entries["a/b"]; !e.Dir || e.Size != 0 {
		t.Errorf("a/b: %+v", e)
	}
	if got, want := keys(scanLocal(root, "a/b", ig, 0, nil)), "a/b a/b/c.txt"; got != want {
		t.Errorf("subtree scan: got %s, want %s", got, want)
	}
	if got := keys(scanLocal(root, "e.txt", ig, 0, nil)); got != "e.txt" {
		t.Errorf("file scan: got %s", got)
	}
	if r := scanLocal(root, "gone", ig, 0, nil); len(r.Entries)+len(r.Unreadable) != 0 {
		t.Errorf("missing subtree: %+v", r)
	}
	if r := scanLocal(filepath.Join(root, "nope"), "", ig, 0, nil); r.Unreadable[""] == nil {
		t.Errorf("missing root not reported: %+v", r)
	}
	if os.Geteuid() != 0 {
		locked := filepath.Join(root, "f", "g")
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(locked, 0o755)
		r := scanLocal(root, "", ig, 0, nil)
		if r.Unreadable["f/g"] == nil || !r.Entries["f/g"].Dir {
			t.Errorf("unreadable directory: entries %s, unreadable %v", keys(r), r.Unreadable)
		}
	}
}
