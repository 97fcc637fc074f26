package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fsnotify/fsnotify"
)

// A real inotify queue overflow: fsnotify's events are held back (the pump
// is gated) while more events than the kernel queue holds are generated.
// A directory created, and one renamed, after the queue filled up have lost
// their events; the resync before the rescan must watch both under their
// current names.
func TestKernelOverflow(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inotify only")
	}
	raw, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Skipf("inotify limits: %v", err)
	}
	maxQueued, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || maxQueued > 1<<18 {
		t.Skipf("max_queued_events %q too large to overflow quickly", raw)
	}
	gate := make(chan struct{})
	gateOpen := false
	openGate := func() {
		if !gateOpen {
			gateOpen = true
			close(gate)
		}
	}
	t.Cleanup(openGate)
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := start(t, root, Options{}, hooks{pumpGate: gate})

	// Alternate between two files so the kernel cannot merge events; add
	// fsnotify's own read buffer (up to 4096 events) to the kernel queue.
	var files [2]*os.File
	for i := range files {
		f, err := os.Create(h.path(fmt.Sprintf("flood%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files[i] = f
	}
	for i := range maxQueued + 4096 + 1024 {
		if _, err := files[i%2].Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(h.path("late"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(h.path("old"), h.path("new")); err != nil {
		t.Fatal(err)
	}

	openGate()
	h.waitRescan()
	if !strings.Contains(h.logs.String(), "overflowed") {
		t.Errorf("no overflow log line:\n%s", h.logs.String())
	}
	h.write("late/f", "x")
	h.write("new/f", "x")
	h.waitPaths("late/f", "new/f")
	if h.seen["old/f"] > 0 {
		t.Errorf("reported under the old name: %v", h.seenList())
	}
}

// An overflow fed through the internal error path (the same queue fsnotify's
// errors take) yields a rescan and keeps the watcher running.
func TestOverflowErrorPath(t *testing.T) {
	h := start(t, "", Options{}, hooks{})
	h.w.queue.push(item{err: fsnotify.ErrEventOverflow})
	h.waitRescan()
	h.write("after", "x")
	h.waitPaths("after")
}

// Any other fsnotify error also ends in a rescan.
func TestNotifierErrorPath(t *testing.T) {
	h := start(t, "", Options{}, hooks{})
	h.w.queue.push(item{err: syscall.EIO})
	h.waitRescan()
}

func TestQueueOverflow(t *testing.T) {
	q := newQueue(2)
	for range 3 {
		q.push(item{ev: fsnotify.Event{Name: "x", Op: fsnotify.Write}})
	}
	items, overflow := q.take(nil)
	if len(items) != 2 || !overflow {
		t.Fatalf("take: %d items, overflow %v; want 2, true", len(items), overflow)
	}
	if items, overflow := q.take(nil); len(items) != 0 || overflow {
		t.Fatalf("second take: %d items, overflow %v; want 0, false", len(items), overflow)
	}
}

// failAdd makes adding a watch for any directory named "limited" fail
// with errno, as a full inotify table (ENOSPC) or fd table (EMFILE) does.
func failAdd(errno syscall.Errno) func(add func(string) error, path string) error {
	return func(add func(string) error, path string) error {
		if filepath.Base(path) == "limited" {
			return errno
		}
		return add(path)
	}
}

func TestWatchLimit(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EMFILE} {
		t.Run(errno.Error(), func(t *testing.T) {
			h := start(t, "", Options{}, hooks{addWatch: failAdd(errno)})
			if err := os.MkdirAll(h.path("limited/inner"), 0o755); err != nil {
				t.Fatal(err)
			}
			h.waitRescan()
			if !strings.Contains(h.logs.String(), "watch limit reached") {
				t.Errorf("no watch limit log line:\n%s", h.logs.String())
			}
			if got := h.watched("limited"); len(got) > 0 {
				t.Errorf("limited directory watched: %q", got)
			}
			// Still running.
			h.write("ok", "x")
			h.waitPaths("ok")
		})
	}
}

// A limit hit while New walks the existing tree does not fail New; the first
// batch asks for a rescan.
func TestWatchLimitAtStart(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "a", "limited", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := start(t, root, Options{}, hooks{addWatch: failAdd(syscall.ENOSPC)})
	h.waitRescan()
	if !strings.Contains(h.logs.String(), "max_user_watches") {
		t.Errorf("log line does not say how to fix it:\n%s", h.logs.String())
	}
	h.write("a/f", "x")
	h.waitPaths("a/f")
}

func TestWatchLimitOnRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "limited")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	h := start(t, root, Options{}, hooks{addWatch: failAdd(syscall.ENOSPC)})
	h.waitRescan()
}
