//go:build linux

package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/syncagent/syncagent/agent/ignore"
	"github.com/syncagent/syncagent/syncstate"
)

// TestScanReadsWhatLstatSays: the getdents scan finds exactly the
// regular files and directories below the root, with the size and mtime
// lstat gives, skips symlinks (to files and to directories) and FIFOs,
// reads a directory too large for one getdents call, and keys a path the
// synced state holds with the synced state's string.
func TestScanReadsWhatLstatSays(t *testing.T) {
	root := t.TempDir()
	want := map[string]bool{}
	for i := range 700 { // names of 40+ bytes: more than one 32 KiB read
		p := fmt.Sprintf("big/%s-%04d.dat", strings.Repeat("n", 40), i)
		putFile(t, filepath.Join(root, filepath.FromSlash(p)), strings.Repeat("y", i%7))
		want[p] = true
	}
	for _, p := range []string{"a/b/c.txt", "a/d.txt", "e.txt"} {
		putFile(t, filepath.Join(root, filepath.FromSlash(p)), p)
		want[p] = true
	}
	for _, d := range []string{"big", "a", "a/b", "empty"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
		want[d] = true
	}
	if err := os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "dirlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("e.txt", filepath.Join(root, "a", "filelink")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "a", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	ig, err := ignore.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]syncstate.Entry{"a/d.txt": {Path: strings.Clone("a/d.txt")}}
	res := scanLocal(root, "", ig, 0, known)
	if len(res.Unreadable) != 0 {
		t.Fatalf("unreadable: %v", res.Unreadable)
	}
	for p, e := range res.Entries {
		if !want[p] {
			t.Errorf("scan found %q", p)
			continue
		}
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		l := e.entry()
		if l.Dir != fi.IsDir() || l.Size != sizeOf(fi) || !l.MTime.Equal(fi.ModTime()) {
			t.Errorf("%s: scan says %+v, lstat %v %d %v", p, l, fi.IsDir(), fi.Size(), fi.ModTime())
		}
	}
	for p := range want {
		if _, ok := res.Entries[p]; !ok {
			t.Errorf("scan missed %q", p)
		}
	}
	for p := range res.Entries {
		if p == "a/d.txt" && unsafe.StringData(p) != unsafe.StringData(known[p].Path) {
			t.Error("a path the synced state holds is keyed by a string of its own")
		}
	}
}
