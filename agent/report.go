package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncagent/syncagent/agent/bwlimit"
	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/agent/status"
)

// TransferStatus is one upload or download in flight.
type TransferStatus = status.Transfer

// inflight tracks one running transfer; done is updated by the pool's
// progress callback and read by Status.
type inflight struct {
	path, direction string
	size            int64
	started         time.Time
	done            atomic.Int64
}

// track registers a transfer in the folder's status and returns its
// progress callback and the function that removes it.
func (f *folder) track(rel, direction string, size int64) (progress func(int64), untrack func()) {
	t := &inflight{path: rel, direction: direction, size: size, started: time.Now()}
	f.mu.Lock()
	if f.xfers == nil {
		f.xfers = make(map[*inflight]struct{})
	}
	f.xfers[t] = struct{}{}
	f.mu.Unlock()
	return func(n int64) { t.done.Store(n) }, func() {
		f.mu.Lock()
		delete(f.xfers, t)
		f.mu.Unlock()
	}
}

// transfersLocked lists the transfers in flight; f.mu must be held.
func (f *folder) transfersLocked() []TransferStatus {
	out := make([]TransferStatus, 0, len(f.xfers))
	for t := range f.xfers {
		ts := TransferStatus{Path: t.path, Direction: t.direction, Size: t.size, Done: t.done.Load()}
		if secs := time.Since(t.started).Seconds(); secs > 0 && ts.Done > 0 {
			ts.Rate = float64(ts.Done) / secs
			ts.ETASeconds = float64(max(ts.Size-ts.Done, 0)) / ts.Rate
		}
		out = append(out, ts)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// observeLatency records how long a change took to sync, for changes made
// while the agent was running (older ones are the initial catch-up).
func (f *folder) observeLatency(changed time.Time) {
	now := f.now()
	if changed.After(f.started) && !changed.After(now) {
		f.metrics.ChangeLatency(now.Sub(changed))
	}
}

// DefaultCapsTimeout is Agent.CapsTimeout when zero.
const DefaultCapsTimeout = 3 * time.Second

// Report returns the agent's status for the status endpoint: every
// folder, and per server whether it answers and what it offers. Safe for
// concurrent use.
func (a *Agent) Report(ctx context.Context) status.Report {
	rep := status.Report{Time: time.Now()}
	failing := make(map[string]string) // server -> the error of a folder using it
	every := a.ConflictScanEvery
	if every <= 0 {
		every = DefaultConflictScanEvery
	}
	a.mu.Lock()
	folders, pools, config := a.folders, a.pools, a.Config
	a.mu.Unlock()
	for _, f := range folders {
		fs, cfg := f.Status(), f.cfg
		rep.Folders = append(rep.Folders, status.Folder{
			Name: fs.Name, Path: cfg.Path, Mode: cfg.Mode, Server: cfg.Server, Remote: cfg.Remote,
			State: fs.State, FilesQueued: fs.Queued, BytesQueued: fs.BytesQueued,
			Transfers: fs.Transfers, LastSync: fs.LastSync, LastError: fs.LastError, Watcher: fs.Watcher, Conflicts: fs.Conflicts,
			ConflictCopies: nonNil(a.conflicts.get(ctx, cfg.Name, cfg.Path, every)),
			Uploaded:       fs.Uploaded, Downloaded: fs.Downloaded, Problems: nonNil(fs.Problems),
			Skipped: nonNil(fs.Skipped),
		})
		if fs.State == "error" && failing[cfg.Server] == "" {
			failing[cfg.Server] = fs.LastError
		}
	}
	names := make([]string, 0, len(pools))
	for name := range pools {
		names = append(names, name)
	}
	sort.Strings(names)
	rep.Servers = make([]status.Server, len(names))
	d := a.CapsTimeout
	if d <= 0 {
		d = DefaultCapsTimeout
	}
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := config.Servers[name]
			s := status.Server{Name: name, Address: sc.Address, Caps: []string{}}
			cctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			caps, err := pools[name].Caps(cctx)
			switch {
			case err != nil:
				s.Error = err.Error()
			case failing[name] != "":
				// The capabilities are remembered from an earlier
				// connection; the folders say whether it works now.
				s.Error = failing[name]
			default:
				s.Connected = true
			}
			if err == nil {
				s.Caps = capsInUse(caps, sc.TLS)
			}
			if sched, err := bwlimit.Parse(sc.BWLimit); err == nil {
				s.BWLimit = sched.InForce(time.Now())
			}
			rep.Servers[i] = s
		}()
	}
	wg.Wait()
	return rep
}

// serveStatus starts the status endpoint on cfg.StatusListen and returns
// the function that shuts it down.
func (a *Agent) serveStatus() (stop func(), err error) {
	ln := a.StatusListener
	if ln == nil {
		if ln, err = net.Listen("tcp", a.Config.StatusListen); err != nil {
			return nil, fmt.Errorf("status_listen: %w", err)
		}
	}
	h := &status.Handler{Source: a}
	if m, ok := a.Metrics.(*status.Metrics); ok {
		h.Registry = m.Registry()
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.Logger.Error("status endpoint stopped", "err", err)
		}
	}()
	a.Logger.Info("status endpoint listening", "url", "http://"+ln.Addr().String()+"/")
	a.statusAddr.Store(ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}, nil
}

// StatusAddr returns the address the status endpoint listens on while
// Run runs (useful with a ":0" status_listen), or "".
func (a *Agent) StatusAddr() string {
	s, _ := a.statusAddr.Load().(string)
	return s
}

// transferSize is the number of bytes action a will move.
func transferSize(a plan.Action, it plan.Item) int64 {
	switch a.Kind {
	case plan.Upload:
		return it.Local.Size
	case plan.Download:
		return it.Remote.Size
	}
	return 0
}

// errorKind classifies a failed action for the errors metric.
func errorKind(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, errChanged), errors.Is(err, remote.ErrSourceChanged):
		return "changed"
	case remote.IsTransient(err) || ctx.Err() != nil:
		return "network"
	}
	return "path"
}

// capsInUse names the capabilities the agent uses with a server that
// offers caps over a connection with the given tls setting: TLS only
// when the connection is encrypted, whatever the server offers.
func capsInUse(caps remote.Caps, tls string) []string {
	out := []string{}
	for _, c := range []struct {
		ok   bool
		name string
	}{{caps.MLSD, "MLSD"}, {caps.HASH && caps.HashSHA256, "HASH"}, {caps.MFMT, "MFMT"}, {caps.REST, "REST"},
		{caps.Batch, "BATCH"}, {caps.Tree, "TREE"}, {caps.Expect, "EXPECT"}} {
		if c.ok {
			out = append(out, c.name)
		}
	}
	if tls == TLSExplicit || tls == TLSImplicit {
		out = append(out, "TLS ("+tls+")")
	}
	return out
}

// nonNil returns s, or an empty slice for nil, so that JSON shows [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
