//go:build linux

package agent

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/syncagent/syncagent/agent/ignore"
)

// TestPortableScanMatchesLinux scans one tree with the getdents scanner
// and with the portable one that other systems use (forced here), and
// wants the same entries, skipped specials and unreadable paths from
// both: the portable path is otherwise only compiled on Linux.
func TestPortableScanMatchesLinux(t *testing.T) {
	root := t.TempDir()
	for rel, content := range map[string]string{
		"a.txt": "a", "dir/b.bin": "bb", "dir/sub/c": "ccc", "dir/x.tmp": "ignored",
		"skip/d": "ignored dir", ".hidden/e": "eeee", "ünï cödé/f g": "f",
	} {
		putFile(t, filepath.Join(root, filepath.FromSlash(rel)), content)
	}
	if err := os.Mkdir(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "dir", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	ig, err := ignore.New([]string{"skip/", "*.tmp"})
	if err != nil {
		t.Fatal(err)
	}
	linux := scanLocal(root, "", ig, 0, nil)
	portableScan.Store(true)
	portable := scanLocal(root, "", ig, 0, nil)
	portableScan.Store(false)
	if len(linux.Entries) != 10 || len(linux.Skipped) != 2 {
		t.Fatalf("Linux scan: %d entries, %d skipped (%v); want 10 and 2", len(linux.Entries), len(linux.Skipped), linux.Skipped)
	}
	if !reflect.DeepEqual(portable.Entries, linux.Entries) {
		t.Errorf("entries differ:\nportable %v\nlinux    %v", portable.Entries, linux.Entries)
	}
	if !reflect.DeepEqual(portable.Skipped, linux.Skipped) {
		t.Errorf("skipped differ:\nportable %v\nlinux    %v", portable.Skipped, linux.Skipped)
	}
	if !reflect.DeepEqual(portable.Unreadable, linux.Unreadable) {
		t.Errorf("unreadable differ:\nportable %v\nlinux    %v", portable.Unreadable, linux.Unreadable)
	}
}
