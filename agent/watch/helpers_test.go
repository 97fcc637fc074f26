package watch

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitLimit bounds every wait for events; tests never assert latency.
const waitLimit = 10 * time.Second

// harness runs a Watcher on a fresh root and records what it reports. Only
// the test goroutine receives, so the records need no lock.
type harness struct {
	t       *testing.T
	root    string
	w       *Watcher
	seen    map[string]int // how often each path was reported
	rescans int
	batches int
	logs    *syncBuffer
}

// startOpts starts a watcher on root (a t.TempDir() if empty).
func start(t *testing.T, root string, opt Options, h hooks) *harness {
	t.Helper()
	if root == "" {
		root = t.TempDir()
	}
	logs := &syncBuffer{}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opt.Debounce == 0 {
		opt.Debounce = 20 * time.Millisecond
	}
	w, err := newWatcher(root, opt, h)
	if err != nil {
		t.Fatalf("new watcher: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return &harness{t: t, root: w.root, w: w, seen: make(map[string]int), logs: logs}
}

// receive records one batch, failing the test if none comes by deadline.
func (h *harness) receive(deadline time.Time) {
	h.t.Helper()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case b, ok := <-h.w.Events():
		if !ok {
			h.t.Fatal("events closed")
		}
		if !slices.IsSorted(b.Paths) || len(slices.Compact(slices.Clone(b.Paths))) != len(b.Paths) {
			h.t.Errorf("batch paths not sorted and unique: %q", b.Paths)
		}
		h.batches++
		if b.Rescan {
			h.rescans++
		}
		for _, p := range b.Paths {
			h.seen[p]++
		}
	case <-timer.C:
	}
}

// waitPaths receives until every path was reported at least once.
func (h *harness) waitPaths(paths ...string) {
	h.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		missing := h.missing(paths)
		if len(missing) == 0 {
			return
		}
		h.receive(deadline)
	}
	h.t.Fatalf("not reported within %v: %q (seen %v)", waitLimit, h.missing(paths), h.seenList())
}

// waitRescan receives until a batch with Rescan set arrived.
func (h *harness) waitRescan() {
	h.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for h.rescans == 0 && time.Now().Before(deadline) {
		h.receive(deadline)
	}
	if h.rescans == 0 {
		h.t.Fatalf("no rescan batch within %v", waitLimit)
	}
}

func (h *harness) missing(paths []string) []string {
	var out []string
	for _, p := range paths {
		if h.seen[p] == 0 {
			out = append(out, p)
		}
	}
	return out
}

func (h *harness) seenList() []string {
	out := make([]string, 0, len(h.seen))
	for p := range h.seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// reset forgets what was reported so far.
func (h *harness) reset() {
	clear(h.seen)
	h.rescans, h.batches = 0, 0
}

// path is the OS path of slash-separated rel below the root.
func (h *harness) path(rel string) string {
	return filepath.Join(h.root, filepath.FromSlash(rel))
}

func (h *harness) write(rel, content string) {
	h.t.Helper()
	if err := os.WriteFile(h.path(rel), []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// watched lists fsnotify's watches that are rel or below it.
func (h *harness) watched(rel string) []string {
	var out []string
	for _, p := range h.w.fsw.WatchList() {
		if r, ok := h.w.relPath(p); ok && (r == rel || strings.HasPrefix(r, rel+"/")) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
