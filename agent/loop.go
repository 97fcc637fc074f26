package agent

import (
	"cmp"
	"context"
	"os"
	"runtime/debug"
	"sort"
	"time"

	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/internal/logthrottle"
)

// Backoff bounds for a failing folder: retried forever, at most this far apart.
const (
	retryBase = 500 * time.Millisecond
	retryMax  = time.Minute
	// recheckDelay is how long a path that changed while it was read waits
	// before it is looked at again.
	recheckDelay = 500 * time.Millisecond
	// freeAfterEntries is the folder size (synced paths) from which a
	// full pass ends by returning freed memory to the system.
	freeAfterEntries = 10000
)

// run keeps the folder in sync until ctx ends: a full pass at start, on
// every poll and rescan tick, after an error and whenever a new watcher
// starts; a pass over just the changed paths after each watcher batch. A
// folder that cannot be watched (missing at boot, removed) is synced by
// polls and rescans while its watcher is retried; run returns only when
// ctx ends.
func (f *folder) run(ctx context.Context) error {
	if f.mode != plan.Push {
		if err := os.MkdirAll(f.root, 0o755); err != nil {
			f.log.Error("cannot create the folder; will retry", "err", err)
		}
	}
	f.live.quiet = cmp.Or(f.live.quiet, DefaultQuietTime)
	f.live.holdLarge = true
	f.live.watchRetry = cmp.Or(f.live.watchRetry, DefaultWatchRetryMax)
	// The first watcher starts before the first scan, so the scan misses
	// nothing; keepWatching restarts it (or starts it, if this failed).
	w, werr := f.newWatcher()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan watchEvent)
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		f.keepWatching(wctx, w, werr, events)
	}()
	defer func() { cancel(); <-kept }()
	watchFailed := false
	quiet := newQuietHold(f.live.quiet)

	poll := time.NewTicker(f.cfg.Poll.D())
	defer poll.Stop()
	rescan := time.NewTicker(f.cfg.Rescan.D())
	defer rescan.Stop()
	recheck := time.NewTimer(time.Hour)
	recheck.Stop()

	// A batch that saw a path vanish waits settleDelay for more events:
	// the new name of a rename may come in the next batch, and a pass
	// that sees only the old one deletes remotely what it should rename.
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	settleDelay := max(2*f.cfg.Debounce.D(), 50*time.Millisecond)
	holding := false

	// The same failure on every retry (a server away for hours) is
	// logged at growing intervals, and its end once.
	var failures logthrottle.Throttle
	full := true
	pending := make(map[string]struct{})
	var later []string
	attempt := 0
	// After a failed pass the next one waits for retry; the watcher's
	// news is taken in meanwhile.
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	waiting := false
	for {
		if !waiting && (full || (len(pending) > 0 && !holding)) {
			var scope []string
			if !full {
				for p := range pending {
					scope = append(scope, p)
				}
				sort.Strings(scope)
			}
			res, err := f.pass(ctx, scope, false, nil)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				attempt++
				delay := remote.Backoff(attempt, retryBase, retryMax)
				f.setState("error", err)
				if log, unlogged := failures.Fail(err.Error()); log {
					f.log.Error("sync pass failed; will retry", "err", err, "retry_in", delay.Round(time.Millisecond),
						"repeats_not_logged", unlogged)
				} else {
					f.log.Debug("sync pass failed again", "err", err, "retry_in", delay.Round(time.Millisecond))
				}
				full = true
				waiting = true
				retry.Reset(delay)
				continue
			}
			attempt = 0
			if ok, n, lasted := failures.Recover(); ok {
				f.log.Info("sync pass succeeded again", "failed_passes", n, "failing_for", lasted.Round(time.Millisecond))
			}
			if scope == nil && len(f.base) >= freeAfterEntries {
				// A full pass over a large folder built and dropped maps
				// of every path: give that memory back to the system
				// rather than keep it as heap for an idle agent.
				debug.FreeOSMemory()
			}
			// After the agent's own uploads in two-way, list the remote
			// again at once, so that other agents' changes to the same
			// directories are seen quickly (cheap with the walk cache).
			full = scope != nil && f.mode == plan.TwoWay && res.Plan.Count(plan.Upload) > 0
			clear(pending)
			if len(res.Retry) > 0 {
				later = append(later, res.Retry...)
				recheck.Reset(recheckDelay)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			switch {
			case ev.err != nil:
				f.setWatchError(ev.err)
				if !watchFailed {
					f.log.Warn("cannot watch the folder; relying on polls and rescans, retrying",
						"err", ev.err, "retry_in", ev.retryIn.Round(time.Millisecond))
				} else {
					f.log.Debug("cannot watch the folder yet", "err", ev.err, "retry_in", ev.retryIn.Round(time.Millisecond))
				}
				watchFailed = true
				continue
			case ev.started:
				f.setWatchError(nil)
				f.log.Info("watching the folder again")
				watchFailed = false
				full = true // what changed while nothing watched
				continue
			}
			b := ev.batch
			if b.Rescan {
				f.log.Info("watcher asked for a full rescan")
				full = true
			}
			now := time.Now()
			for _, p := range b.Paths {
				if quiet.hold(f.root, p, now) {
					continue // a large file still being written
				}
				pending[p] = struct{}{}
				if _, ok, _ := statLocal(f.root, p); !ok && !holding {
					holding = true
					settle.Reset(settleDelay)
				}
			}
		case now := <-quiet.timer.C:
			for _, p := range quiet.due(f.root, now) {
				pending[p] = struct{}{}
			}
		case <-retry.C:
			waiting = false
		case <-settle.C:
			holding = false
		case now := <-recheck.C:
			for _, p := range later {
				if !quiet.hold(f.root, p, now) {
					pending[p] = struct{}{}
				}
			}
			later = later[:0]
		case <-poll.C:
			full = true
		case <-rescan.C:
			full = true
		}
	}
}
