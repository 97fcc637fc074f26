package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is the quiet time used when Options.Debounce is zero.
const DefaultDebounce = 50 * time.Millisecond

// maxDelayFactor sets the default Options.MaxDelay as a multiple of Debounce.
const maxDelayFactor = 20

// tickFraction spaces timer ticks at least Debounce/tickFraction apart, so
// paths written at nearly the same time leave in one batch rather than one
// batch each.
const tickFraction = 4

// ErrRunTwice is returned by Run when it is called more than once.
var ErrRunTwice = errors.New("watch: run called more than once")

// ErrRootGone is returned by Run when the root directory was removed or
// renamed: its watch is gone with it, so nothing more would be reported.
// The caller starts a new Watcher once the root exists again.
var ErrRootGone = errors.New("watch: root directory was removed or renamed")

// Options configures a Watcher. The zero value is usable.
type Options struct {
	// Debounce is how long a path must be quiet after its last event before
	// it is reported. If zero, DefaultDebounce is used.
	Debounce time.Duration

	// MaxDelay is the longest a path that keeps changing (a file written for
	// minutes) waits before it is reported anyway, so nothing starves.
	// If zero, 20×Debounce is used.
	MaxDelay time.Duration

	// Ignore reports whether the slash-separated path rel (relative to the
	// root) is ignored. Ignored directories are not watched at all, so
	// nothing below them is reported; ignored files are not reported.
	// It is called only from the goroutine running Run (and from New).
	// If nil, nothing is ignored.
	Ignore func(rel string, isDir bool) bool

	// Logger receives warnings (overflow, watch limit) and debug detail.
	// If nil, nothing is logged.
	Logger *slog.Logger
}

// Batch is a set of paths that became due together.
type Batch struct {
	// Paths are slash-separated, relative to the root, deduplicated and
	// sorted. Each one changed somehow (created, written, removed, renamed
	// from or to, chmod); the receiver must stat it to learn what it is now.
	Paths []string

	// Rescan reports that events were lost (queue overflow, a directory that
	// could not be watched): the receiver must rescan the whole root.
	Rescan bool
}

// hooks are test seams; the zero value means the real thing.
type hooks struct {
	// addWatch replaces the call of add (fsnotify's Add), for example to
	// fail like a full inotify watch table.
	addWatch func(add func(string) error, path string) error
	// pumpGate, if not nil, holds fsnotify's events until it is closed.
	pumpGate <-chan struct{}
	// queueLimit replaces defaultQueueLimit.
	queueLimit int
}

// Watcher reports changes below one root directory. Create it with New, then
// call Run once in its own goroutine and receive from Events until it is
// closed. Events and Close are safe for concurrent use; everything else runs
// on Run's goroutine.
type Watcher struct {
	root   string // absolute, symlinks resolved
	opt    Options
	log    *slog.Logger
	fsw    *fsnotify.Watcher
	hooks  hooks
	queue  *queue
	events chan Batch

	// Owned by the goroutine running Run (New before it).
	tree        *dirTree
	deb         *debouncer
	out         *outbox
	needResync  bool // an overflow lost events: re-add watches before the rescan
	rootGone    bool // the root was removed or renamed: Run returns ErrRootGone
	resyncing   bool
	limitLogged bool
	unwatched   int // directories not watched because of a watch limit

	running   atomic.Bool
	stop      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// New resolves root, creates the fsnotify watcher and adds a watch for every
// directory below root that Options.Ignore does not exclude. Watching starts
// before New returns, so a scan started afterwards misses nothing; changes
// are delivered once Run runs. The caller must call Run or Close.
func New(root string, opt Options) (*Watcher, error) {
	return newWatcher(root, opt, hooks{})
}

func newWatcher(root string, opt Options, h hooks) (*Watcher, error) {
	if opt.Debounce <= 0 {
		opt.Debounce = DefaultDebounce
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = maxDelayFactor * opt.Debounce
	}
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("watch root: %w", err)
	}
	// Resolve symlinks once, so event names (which fsnotify builds from the
	// paths we add) and walked paths share one prefix.
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, fmt.Errorf("watch root: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("watch root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("watch root %s: not a directory", abs)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch root: %w", err)
	}
	w := &Watcher{
		root:   abs,
		opt:    opt,
		log:    logger.With("root", abs),
		fsw:    fsw,
		hooks:  h,
		queue:  newQueue(h.queueLimit),
		events: make(chan Batch),
		tree:   newDirTree(),
		deb:    newDebouncer(opt.Debounce, opt.MaxDelay),
		out:    newOutbox(),
		stop:   make(chan struct{}),
	}
	go w.queue.pump(fsw.Events, fsw.Errors, h.pumpGate, w.stop)

	now := time.Now()
	// The root itself must be watchable, except for a watch limit, which
	// degrades to rescans like any other directory.
	switch err := w.addWatch(w.root); {
	case err == nil:
		w.tree.add(".", false)
	case isWatchLimit(err):
		w.limitHit(".", err, now)
		return w, nil
	default:
		w.Close()
		return nil, fmt.Errorf("watch root: %w", err)
	}
	w.addTree(".", now, walkInitial)
	return w, nil
}

// Events returns the channel of debounced batches. It is closed when Run
// returns. Receive promptly: undelivered batches merge into one, and a
// consumer that never receives lets that batch grow without bound.
func (w *Watcher) Events() <-chan Batch { return w.events }

// Run delivers batches on Events until ctx is done or Close is called, then
// closes fsnotify and Events. It returns nil then, ErrRootGone when the root
// directory went away, or ErrRunTwice if called again. Paths still pending
// when Run returns are dropped.
func (w *Watcher) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return ErrRunTwice
	}
	defer close(w.events)
	defer w.Close()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	tick := max(w.deb.minWait()/tickFraction, time.Millisecond)
	var buf []item
	var due []string

	for {
		if !armed && w.deb.len() > 0 {
			// Nothing pending had a timer: the earliest deadline is the
			// first event's, at least minWait from now.
			timer.Reset(w.deb.minWait())
			armed = true
		}
		var send chan<- Batch
		var b Batch
		if !w.out.empty() {
			send, b = w.events, w.out.batch()
		}

		select {
		case <-ctx.Done():
			return nil
		case <-w.queue.done:
			return nil // closed
		case <-w.queue.ready:
			var overflow bool
			buf, overflow = w.queue.take(buf)
			now := time.Now()
			if overflow {
				w.handleError(fsnotify.ErrEventOverflow, now)
			}
			for i := range buf {
				w.handleItem(buf[i], now)
				buf[i] = item{}
			}
			if w.rootGone {
				return ErrRootGone
			}
		case now := <-timer.C:
			armed = false
			var next time.Time
			due, next = w.deb.due(now, due[:0])
			w.deliver(due, now)
			if !next.IsZero() {
				timer.Reset(max(next.Sub(now), tick))
				armed = true
			}
		case send <- b:
			w.out.clear()
		}
	}
}

// deliver moves due paths to the outbox; a due rescan request first re-adds
// watches if events were lost.
func (w *Watcher) deliver(due []string, now time.Time) {
	for _, p := range due {
		if p != rescanKey {
			w.out.add(p)
			continue
		}
		if w.needResync {
			w.needResync = false
			w.resync(now)
		}
		w.out.setRescan()
	}
}

// requestRescan schedules a Batch with Rescan set, debounced like a path so
// a storm of overflows yields few rescans.
func (w *Watcher) requestRescan(now time.Time) {
	w.deb.touch(rescanKey, now)
}

// Close stops watching and releases fsnotify. Run returns soon after. It is
// safe to call more than once and from any goroutine.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() {
		close(w.stop)
		w.closeErr = w.fsw.Close()
		<-w.queue.done
	})
	return w.closeErr
}
