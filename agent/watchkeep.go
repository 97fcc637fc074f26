package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/agent/watch"
)

// Defaults of the run loop's watcher and quiet-file settings.
const (
	// DefaultWatchRetryMax is Config.WatchRetryMax when zero.
	DefaultWatchRetryMax = 30 * time.Second
	// DefaultQuietTime is Config.QuietTime when zero.
	DefaultQuietTime = time.Second
	// LargeFile is the size from which a changed file must be quiet for
	// QuietTime before it is uploaded: a copy still running would
	// otherwise be sent from the middle, abandoned and sent again.
	LargeFile = 1 << 20
	// maxQuietWait is the longest a large file that never stops changing
	// (a log written for hours) is held back; it is then synced as it is.
	maxQuietWait = 10 * time.Minute
	// watchRetryBase is the first wait before a watcher is started again.
	watchRetryBase = 500 * time.Millisecond
)

// liveSettings are a folder's run-loop settings and counters beyond its
// FolderConfig.
type liveSettings struct {
	quiet time.Duration // how long a large file must not change before it syncs
	// holdLarge: uploads skip a large file changed within quiet (set by
	// run before its first pass; a one-off Sync sends what it finds).
	holdLarge  bool
	watchRetry time.Duration // the longest wait between attempts to start the watcher
	// watchStarts counts the watchers started, for tests.
	watchStarts atomic.Int64
	// rewatched is when a watcher last started again after a failure;
	// under the folder's mu.
	rewatched time.Time
}

// watchEvent is what keepWatching tells the run loop: a batch, a watcher
// that failed (retried after retryIn), or one that runs again.
type watchEvent struct {
	batch   watch.Batch
	err     error
	retryIn time.Duration
	started bool
}

func (f *folder) newWatcher() (*watch.Watcher, error) {
	w, err := watch.New(f.root, watch.Options{Debounce: f.cfg.Debounce.D(), Ignore: f.ig.Match, Logger: f.log})
	if err == nil {
		f.live.watchStarts.Add(1)
	}
	return w, err
}

// keepWatching runs a watcher on the folder until ctx ends, starting a new
// one whenever it cannot start (the folder is missing at boot) or stops
// (the folder was removed or renamed), with capped backoff. w is the
// watcher run() started, or nil when that failed with err. Everything it
// learns goes to out, which the run loop receives from.
func (f *folder) keepWatching(ctx context.Context, w *watch.Watcher, err error, out chan<- watchEvent) {
	failures := 0
	for {
		if w != nil {
			err = f.runWatcher(ctx, w, out)
			if ctx.Err() != nil {
				return
			}
		}
		failures++
		delay := remote.Backoff(failures, watchRetryBase, f.live.watchRetry)
		if !sendWatch(ctx, out, watchEvent{err: err, retryIn: delay}) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		if w, err = f.newWatcher(); err == nil {
			failures = 0
			if !sendWatch(ctx, out, watchEvent{started: true}) {
				w.Close()
				return
			}
		}
	}
}

// runWatcher runs w, passing its batches on, until it stops; it returns
// why (ctx's end, or the watcher's error).
func (f *folder) runWatcher(ctx context.Context, w *watch.Watcher, out chan<- watchEvent) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	for b := range w.Events() {
		if !sendWatch(ctx, out, watchEvent{batch: b}) {
			cancel()
		}
	}
	err := <-done
	if err == nil && ctx.Err() == nil {
		err = errors.New("watcher stopped")
	}
	return err
}

func sendWatch(ctx context.Context, out chan<- watchEvent, ev watchEvent) bool {
	select {
	case out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// setWatchError records in the status why the folder is not watched (nil:
// it is watched again).
func (f *folder) setWatchError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		f.status.Watcher = ""
		f.live.rewatched = time.Now()
		return
	}
	f.status.Watcher = fmt.Sprintf("not watching (polls and rescans go on): %v", err)
}

// fileSnap is what a held large file looked like when last examined.
type fileSnap struct {
	size  int64
	mtime time.Time
	since time.Time // when it was first held
}

// quietHold holds back large files that are still being written, until
// they stop changing. It belongs to the run loop's goroutine.
type quietHold struct {
	quiet time.Duration
	held  map[string]fileSnap
	timer *time.Timer
}

func newQuietHold(quiet time.Duration) *quietHold {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &quietHold{quiet: quiet, held: make(map[string]fileSnap), timer: t}
}

// hold reports whether rel, reported changed, must wait: it is a file of
// at least LargeFile bytes modified within the quiet time, or one held
// already. The file is then examined again after the quiet time.
func (q *quietHold) hold(root, rel string, now time.Time) bool {
	if _, ok := q.held[rel]; ok {
		return true
	}
	fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < LargeFile || now.Sub(fi.ModTime()) >= q.quiet {
		return false
	}
	if len(q.held) == 0 {
		q.timer.Reset(q.quiet)
	}
	q.held[rel] = fileSnap{size: fi.Size(), mtime: fi.ModTime(), since: now}
	return true
}

// due returns the held files that did not change since they were last
// examined (or were held for maxQuietWait, or are gone), forgets them, and
// re-arms the timer for the others.
func (q *quietHold) due(root string, now time.Time) []string {
	var out []string
	for rel, snap := range q.held {
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
		if err == nil && (fi.Size() != snap.size || !fi.ModTime().Equal(snap.mtime)) && now.Sub(snap.since) < maxQuietWait {
			q.held[rel] = fileSnap{size: fi.Size(), mtime: fi.ModTime(), since: snap.since}
			continue
		}
		out = append(out, rel)
		delete(q.held, rel)
	}
	if len(q.held) > 0 {
		q.timer.Reset(q.quiet)
	}
	return out
}
