package ftpfs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncagent/syncagent/server/versions"
)

// TestMkdirDepthLimit creates directories down to MaxDirDepth and refuses
// the next level, by Mkdir and by moving a directory there with Rename.
func TestMkdirDepthLimit(t *testing.T) {
	root := t.TempDir()
	f, err := Open(root, "alice", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := ""
	for range MaxDirDepth {
		p += "/d"
		if err := f.Mkdir(p); err != nil {
			t.Fatalf("Mkdir at depth %d: %v", strings.Count(p, "/"), err)
		}
	}
	if err := f.Mkdir(p + "/d"); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("Mkdir at depth %d = %v, want ErrTooDeep", MaxDirDepth+1, err)
	}
	if err := f.Mkdir("/m"); err != nil {
		t.Fatal(err)
	}
	if err := f.Rename("/m", p+"/m"); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("Rename of a directory to depth %d = %v, want ErrTooDeep", MaxDirDepth+1, err)
	}
	// A file may still live at the deepest level.
	if err := os.WriteFile(filepath.Join(root, "alice", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Rename("/f", p+"/f"); err != nil {
		t.Fatalf("Rename of a file into the deepest directory: %v", err)
	}
}

// TestRemoveDirStopsWithContext removes a tree through an FS whose context
// has ended: RemoveDir stops at once and leaves the tree in place.
func TestRemoveDirStopsWithContext(t *testing.T) {
	root := t.TempDir()
	store, err := versions.Open(filepath.Join(root, dataDir, "versions"), versions.Options{Keep: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithCancel(context.Background())
	f, err := Open(root, "alice", Options{Versions: store, Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	deep := filepath.Join(root, "alice", "t", "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(deep, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := f.RemoveDir("/t"); !errors.Is(err, context.Canceled) {
		t.Fatalf("RemoveDir after the context ended = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(deep, "f")); err != nil {
		t.Fatalf("tree touched by a stopped RemoveDir: %v", err)
	}
}
