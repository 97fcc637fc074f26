package agent

import (
	"context"
	"errors"
	"os"
	"runtime/debug"
	"sort"
	"time"

	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/agent/watch"
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
// every poll and rescan tick and after an error; a pass over just the
// changed paths after each watcher batch.
func (f *folder) run(ctx context.Context) error {
	if f.mode != plan.Push {
		if err := os.MkdirAll(f.root, 0o755); err != nil {
			return err
		}
	}
	w, err := watch.New(f.root, watch.Options{Debounce: f.cfg.Debounce.D(), Ignore: f.ig.Match, Logger: f.log})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	werr := make(chan error, 1)
	go func() { werr <- w.Run(wctx) }()

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
	for {
		if full || (len(pending) > 0 && !holding) {
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
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(delay):
				}
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
		case err := <-werr:
			if err != nil && !errors.Is(err, context.Canceled) {
				f.log.Error("watcher stopped; relying on polls and rescans", "err", err)
			}
			werr = nil
		case b := <-w.Events():
			if b.Rescan {
				f.log.Info("watcher asked for a full rescan")
				full = true
			}
			for _, p := range b.Paths {
				pending[p] = struct{}{}
				if _, ok, _ := statLocal(f.root, p); !ok && !holding {
					holding = true
					settle.Reset(settleDelay)
				}
			}
		case <-settle.C:
			holding = false
		case <-recheck.C:
			for _, p := range later {
				pending[p] = struct{}{}
			}
			later = later[:0]
		case <-poll.C:
			full = true
		case <-rescan.C:
			full = true
		}
	}
}
