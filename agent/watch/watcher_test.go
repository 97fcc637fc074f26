package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileLifecycle(t *testing.T) {
	h := start(t, "", Options{}, hooks{})

	h.write("a.txt", "one")
	h.waitPaths("a.txt")

	h.reset()
	f, err := os.OpenFile(h.path("a.txt"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("two"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	h.waitPaths("a.txt")

	h.reset()
	if err := os.Chmod(h.path("a.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.waitPaths("a.txt")

	h.reset()
	if err := os.Rename(h.path("a.txt"), h.path("b.txt")); err != nil {
		t.Fatal(err)
	}
	h.waitPaths("a.txt", "b.txt")

	h.reset()
	if err := os.Remove(h.path("b.txt")); err != nil {
		t.Fatal(err)
	}
	h.waitPaths("b.txt")
}

// Files written into directories that a single MkdirAll just created are
// reported although the watches of those directories came later.
func TestNestedMkdirAllRace(t *testing.T) {
	h := start(t, "", Options{}, hooks{})
	var want []string
	for i := range 5 {
		dir := fmt.Sprintf("n%d/a/b/c", i)
		if err := os.MkdirAll(h.path(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for d := dir; d != "."; d = path.Dir(d) {
			h.write(d+"/f", "x")
			want = append(want, d, d+"/f")
		}
	}
	h.waitPaths(want...)

	// The deepest directories are watched now.
	h.reset()
	h.write("n4/a/b/c/g", "x")
	h.waitPaths("n4/a/b/c/g")
}

func TestMoveTreeIn(t *testing.T) {
	h := start(t, "", Options{}, hooks{})
	outside := t.TempDir()
	for _, d := range []string{"tree/x/y", "tree/z"} {
		if err := os.MkdirAll(filepath.Join(outside, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"tree/top", "tree/x/y/deep", "tree/z/side"} {
		if err := os.WriteFile(filepath.Join(outside, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(filepath.Join(outside, "tree"), h.path("in")); err != nil {
		t.Fatal(err)
	}
	h.waitPaths("in", "in/top", "in/x", "in/x/y", "in/x/y/deep", "in/z", "in/z/side")

	h.reset()
	h.write("in/x/y/new", "x")
	h.waitPaths("in/x/y/new")
}

func TestRenameDirInsideAndOut(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "d", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "d", "x", "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h := start(t, root, Options{}, hooks{})

	if err := os.Rename(h.path("d"), h.path("e")); err != nil {
		t.Fatal(err)
	}
	h.waitPaths("d", "e", "e/x", "e/x/f")

	// The watches follow the new name: a stale watch would report d/x/g.
	h.write("e/x/g", "x")
	h.waitPaths("e/x/g")
	if h.seen["d/x/g"] > 0 {
		t.Errorf("reported under the old name: %v", h.seenList())
	}
	if got := h.watched("d"); len(got) > 0 {
		t.Errorf("old watches left: %q", got)
	}

	// Moved out of the root: reported once, then no longer watched.
	h.reset()
	outside := filepath.Join(t.TempDir(), "gone")
	if err := os.Rename(h.path("e"), outside); err != nil {
		t.Fatal(err)
	}
	h.waitPaths("e")
	if err := os.WriteFile(filepath.Join(outside, "x", "h"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h.write("sentinel", "x")
	h.waitPaths("sentinel")
	for p := range h.seen {
		if p != "e" && p != "sentinel" {
			t.Errorf("unexpected report %q after moving the tree out", p)
		}
	}
	if got := h.watched("e"); len(got) > 0 {
		t.Errorf("watches left after moving out: %q", got)
	}
}

func TestRemoveDirTree(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "r", "s", "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := start(t, root, Options{}, hooks{})
	if err := os.RemoveAll(h.path("r")); err != nil {
		t.Fatal(err)
	}
	h.waitPaths("r")

	// A new directory of the same name is watched afresh.
	h.reset()
	if err := os.MkdirAll(h.path("r/s"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.write("r/s/f", "x")
	h.waitPaths("r", "r/s", "r/s/f")
}

func TestIgnore(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "node_modules", "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	ignore := func(rel string, isDir bool) bool {
		return (isDir && path.Base(rel) == "node_modules") || strings.HasSuffix(rel, ".tmp")
	}
	h := start(t, root, Options{Ignore: ignore}, hooks{})

	h.write("node_modules/pkg/index.js", "x")
	if err := os.MkdirAll(h.path("sub/node_modules/lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.write("sub/node_modules/lib/a.js", "x")
	h.write("sub/scratch.tmp", "x")
	h.write("sentinel", "x")
	h.waitPaths("sub", "sentinel")

	for p := range h.seen {
		if strings.Contains(p, "node_modules") || strings.HasSuffix(p, ".tmp") {
			t.Errorf("ignored path reported: %q", p)
		}
	}
	for _, dir := range []string{"node_modules", "sub/node_modules"} {
		if got := h.watched(dir); len(got) > 0 {
			t.Errorf("ignored directory watched: %q", got)
		}
	}
}

// Many writes to one file in a burst are reported once.
func TestDebounceCoalesces(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h := start(t, root, Options{Debounce: time.Second, MaxDelay: time.Minute}, hooks{})
	f, err := os.OpenFile(h.path("f"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if _, err := f.WriteString("x"); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	// The sentinel's last event comes after f's, so f is due no later.
	h.write("sentinel", "x")
	h.waitPaths("sentinel")
	if h.seen["f"] != 1 {
		t.Errorf("f reported %d times, want 1 (seen %v)", h.seen["f"], h.seenList())
	}
}

// A file that never goes quiet is still reported, repeatedly, within
// MaxDelay. Debounce is long so that only MaxDelay can explain the reports.
func TestMaxDelayReportsBusyFile(t *testing.T) {
	h := start(t, "", Options{Debounce: 5 * time.Second, MaxDelay: 100 * time.Millisecond}, hooks{})
	ctx, cancel := context.WithCancel(context.Background())
	writerDone := make(chan error, 1)
	go func() {
		f, err := os.Create(h.path("busy"))
		if err != nil {
			writerDone <- err
			return
		}
		defer f.Close()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				writerDone <- nil
				return
			case <-tick.C:
				if _, err := f.WriteString("x"); err != nil {
					writerDone <- err
					return
				}
			}
		}
	}()
	deadline := time.Now().Add(waitLimit)
	for h.seen["busy"] < 2 && time.Now().Before(deadline) {
		h.receive(deadline)
	}
	cancel()
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	if h.seen["busy"] < 2 {
		t.Fatalf("busy file reported %d times while being written, want >= 2", h.seen["busy"])
	}
}

func TestRunTwiceAndClose(t *testing.T) {
	w, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("run after close: %v", err)
	}
	if _, ok := <-w.Events(); ok {
		t.Fatal("events not closed after run returned")
	}
	if err := w.Run(context.Background()); !errors.Is(err, ErrRunTwice) {
		t.Fatalf("second run: %v, want ErrRunTwice", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{filepath.Join(dir, "missing"), file} {
		if _, err := New(root, Options{}); err == nil {
			t.Errorf("New(%q) succeeded", root)
		}
	}
}

// A symlinked root is resolved: events come back relative to it.
func TestSymlinkRoot(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
	h := start(t, link, Options{}, hooks{})
	if err := os.WriteFile(filepath.Join(link, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h.waitPaths("f")
}
