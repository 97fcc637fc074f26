package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncagent/syncagent/agent/bwlimit"
	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/agent/status"
	"github.com/syncagent/syncagent/syncstate"
)

// staleTempAge is how old an agent temporary on the server must be before
// the start-up clean-up removes it (a younger one may belong to a running
// upload of another agent).
const staleTempAge = time.Hour

// ErrNotInSync is returned by Sync when a pass left work undone.
var ErrNotInSync = errors.New("not in sync")

// ErrPending is returned by a dry run of Sync for a folder with work to
// do; it is an ErrNotInSync. A caller that only wanted the plan printed
// may take it for success.
var ErrPending = fmt.Errorf("actions pending: %w", ErrNotInSync)

// Defaults for Sync's retries of a pass that failed on the network: three
// passes in all (as rclone's --retries), a second apart and more.
const (
	DefaultSyncAttempts   = 3
	DefaultSyncRetryDelay = time.Second
)

// Agent syncs every configured folder. Create it with New, then call Run
// (or Sync for one pass) and Close. Status is safe for concurrent use;
// Run and Sync must not run at the same time.
type Agent struct {
	Config Config
	Logger *slog.Logger
	// Metrics receives the engine's metrics; New sets a status.Metrics,
	// served at /metrics. Replace it before Run if at all.
	Metrics Metrics
	// CapsTimeout bounds how long Report waits for a server's
	// capabilities (0: DefaultCapsTimeout).
	CapsTimeout time.Duration
	// SyncAttempts is how many passes Sync runs over a folder whose pass
	// failed with a transient (network) error before it gives up
	// (0: DefaultSyncAttempts).
	SyncAttempts int
	// SyncRetryDelay is how long Sync waits before its first retry of a
	// folder, doubled for each later one up to retryMax, with jitter
	// (0: DefaultSyncRetryDelay).
	SyncRetryDelay time.Duration
	// StatusListener, when set, is where Run serves the status endpoint
	// instead of listening on Config.StatusListen; Run closes it.
	StatusListener net.Listener
	// ConflictScanEvery is how often the status report looks for conflict
	// copies in a folder again (0: DefaultConflictScanEvery).
	ConflictScanEvery time.Duration

	statusAddr atomic.Value // string: the status endpoint's address while Run runs
	conflicts  conflictCache
	db         *syncstate.DB
	// mu guards what Reload replaces while Run runs: Config, pools,
	// folders, and run.
	mu      sync.Mutex
	pools   map[string]*remote.Pool
	folders []*folder
	run     *running // nil unless Run runs
	id      string   // see ID
}

// New opens the state database and prepares a connection pool per server
// and a runner per folder. Connections are made lazily.
func New(cfg Config, logger *slog.Logger) (*Agent, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db, err := syncstate.Open(cfg.State, syncstate.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	a := &Agent{Config: cfg, Logger: logger, Metrics: status.NewMetrics(), db: db, pools: make(map[string]*remote.Pool)}
	if a.id, err = loadAgentID(db); err != nil {
		a.Close()
		return nil, err
	}
	if err := dropRemovedFolders(db, cfg.Folders, logger); err != nil {
		a.Close()
		return nil, err
	}
	for _, fc := range cfg.Folders {
		pool, err := a.pool(fc.Server)
		if err != nil {
			a.Close()
			return nil, err
		}
		f, err := newFolder(fc, pool, db, cfg.Servers[fc.Server].Connections, logger)
		if err != nil {
			a.Close()
			return nil, err
		}
		f.staleAge = cfg.StaleTempAge
		f.agentID = a.id
		f.live.quiet, f.live.watchRetry = cfg.QuietTime, cfg.WatchRetryMax
		a.folders = append(a.folders, f)
	}
	return a, nil
}

// dropRemovedFolders deletes the records of folders the state file holds
// and the configuration no longer names: what was last synced there is no
// merge base for anything now, and a folder added back under that name
// later starts afresh (comparing contents) instead of from a stale base.
func dropRemovedFolders(db *syncstate.DB, folders []FolderConfig, logger *slog.Logger) error {
	stored, err := db.Folders()
	if err != nil {
		return fmt.Errorf("list the state's folders: %w", err)
	}
	for _, name := range stored {
		if slices.ContainsFunc(folders, func(fc FolderConfig) bool { return fc.Name == name }) {
			continue
		}
		if err := db.DropFolder(name); err != nil {
			return err
		}
		logger.Info("dropped the state of a folder no longer in the config", "folder", name)
	}
	return nil
}

func (a *Agent) pool(name string) (*remote.Pool, error) {
	if p := a.pools[name]; p != nil {
		return p, nil
	}
	p, err := NewPool(a.Config, name, a.Logger)
	if err != nil {
		return nil, err
	}
	a.pools[name] = p
	return p, nil
}

// NewPool opens a connection pool to the named server of cfg.
func NewPool(cfg Config, name string, logger *slog.Logger) (*remote.Pool, error) {
	sc, ok := cfg.Servers[name]
	if !ok {
		return nil, fmt.Errorf("no server %q in servers", name)
	}
	sched, err := bwlimit.Parse(sc.BWLimit)
	if err != nil {
		return nil, fmt.Errorf("servers.%s.bwlimit: %w", name, err)
	}
	rc := remote.Config{
		Address: sc.Address, User: sc.User, Password: sc.Password, TLS: sc.TLS, CAFile: sc.CAFile,
		InsecureSkipVerify: sc.InsecureSkipVerify, ClientCert: sc.ClientCert, ClientKey: sc.ClientKey,
		Connections: sc.Connections, OpTimeout: sc.OpTimeout,
	}
	if lim := bwlimit.New(sched); lim != nil {
		rc.WrapData = lim.Wrap // one Limiter per pool: every folder and command with this server shares it
	}
	p, err := remote.NewPool(rc, logger.With("server", name))
	if err != nil {
		return nil, fmt.Errorf("servers.%s: %w", name, err)
	}
	return p, nil
}

// Run keeps every folder in sync until ctx is cancelled, then flushes the
// state. A folder never stops because its server is away: it retries.
func (a *Agent) Run(ctx context.Context) error {
	if a.Config.StatusListen != "" || a.StatusListener != nil {
		stop, err := a.serveStatus()
		if err != nil {
			return err
		}
		defer stop()
	}
	a.cleanTemps()
	a.mu.Lock()
	a.run = &running{ctx: ctx, ended: make(chan struct{}, 1), stops: make(map[*folder]func())}
	for _, f := range a.folders {
		a.startLocked(f)
	}
	if len(a.folders) == 0 {
		a.run.ended <- struct{}{}
	}
	ended := a.run.ended
	a.mu.Unlock()
	// Until ctx ends, or every folder has stopped on its own (an error).
	select {
	case <-ctx.Done():
	case <-ended:
	}
	a.mu.Lock()
	stops := a.run.stops
	a.run.stops = map[*folder]func(){}
	a.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	a.mu.Lock()
	errs := a.run.errs
	a.run = nil
	a.mu.Unlock()
	if err := a.db.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("save state: %w", err))
	}
	return errors.Join(errs...)
}

// cleanTemps removes the local temporaries a killed agent left. Remote
// ones are removed by each full pass, from what its listing saw
// (removeStaleTemps).
func (a *Agent) cleanTemps() {
	for _, f := range a.folders {
		if n, err := removeLocalTemps(f.root); err != nil || n > 0 {
			f.log.Info("removed local temporaries of a killed agent", "count", n, "err", err)
		}
	}
}

// staleTempAge is the age from which a remote agent temporary is debris.
func (f *folder) staleTempAge() time.Duration {
	if f.staleAge <= 0 {
		return staleTempAge
	}
	return f.staleAge
}

// removeStaleTemps removes the remote agent temporaries the last listing
// of the folder saw that are older than staleAge: left by an agent killed
// mid-upload, here or elsewhere, at any time. Failures only delay that to
// the next full pass.
func (f *folder) removeStaleTemps(ctx context.Context) {
	temps := f.walks.temps
	f.walks.temps = nil
	if len(temps) == 0 {
		return
	}
	n, err := f.rem.RemoveStaleTemps(ctx, f.rroot, temps, f.staleTempAge())
	if err != nil {
		f.log.Debug("remove stale temporaries", "err", err)
	} else if n > 0 {
		f.log.Info("removed stale temporaries", "count", n)
	}
}

// Sync runs one pass over the named folder (all folders when name is
// empty). It returns ErrNotInSync when a pass left anything undone; with
// dryRun it prints the plan to out, each line after the folder's name,
// changes nothing, and returns ErrPending for each folder with work to
// do. A folder whose pass has nothing to do says so on out. A pass that fails on the network or
// with the server away is run again, up to SyncAttempts passes in all; the
// next pass takes up where the failed one stopped. So is a pass that left
// paths to look at again (a conditional write found the remote changed
// since it was listed, a conflict copy is still to be sent, a file changed
// while it was read): the next one lists again and plans them afresh.
func (a *Agent) Sync(ctx context.Context, name string, dryRun bool, out io.Writer) error {
	if name != "" && !slices.ContainsFunc(a.folders, func(f *folder) bool { return f.cfg.Name == name }) {
		names := make([]string, len(a.folders))
		for i, f := range a.folders {
			names[i] = f.cfg.Name
		}
		return fmt.Errorf("no folder named %q in the config; its folders: %s", name, strings.Join(names, ", "))
	}
	var errs []error
	for _, f := range a.folders {
		if name != "" && f.cfg.Name != name {
			continue
		}
		res, err := a.syncFolder(ctx, f, dryRun, &linePrefixer{w: out, prefix: f.cfg.Name + ": "})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pending := res.Plan.Len() - res.Plan.Count(plan.Nothing)
		if pending == 0 {
			fmt.Fprintf(out, "%s: nothing to do\n", f.cfg.Name)
		}
		switch {
		case dryRun && pending > 0:
			errs = append(errs, fmt.Errorf("folder %s: %d %w", f.cfg.Name, pending, ErrPending))
		case dryRun:
		case len(res.Problems) > 0 || len(res.Retry) > 0:
			var paths []string
			for p, e := range res.Problems {
				paths = append(paths, p+": "+e.Error())
			}
			paths = append(paths, res.Retry...)
			sort.Strings(paths)
			errs = append(errs, fmt.Errorf("folder %s: %d paths not synced (%v): %w", f.cfg.Name, len(paths), paths, ErrNotInSync))
		}
	}
	if err := a.db.Flush(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// syncFolder runs f's pass for Sync, again after a transient failure
// while attempts remain. A dry run is never repeated: it changes nothing
// that a second look would find different.
func (a *Agent) syncFolder(ctx context.Context, f *folder, dryRun bool, out io.Writer) (passResult, error) {
	attempts := a.SyncAttempts
	if attempts <= 0 {
		attempts = DefaultSyncAttempts
	}
	delay := a.SyncRetryDelay
	if delay <= 0 {
		delay = DefaultSyncRetryDelay
	}
	for attempt := 1; ; attempt++ {
		res, err := f.pass(ctx, nil, dryRun, out)
		if err == nil && !dryRun && len(res.Retry) > 0 && attempt < attempts {
			// Paths to look at again: a conditional write found the remote
			// changed since the listing (the next pass lists it again and
			// plans them afresh), a conflict copy was made and is still to
			// be sent, or a file changed while it was read. Nothing is
			// wrong with the server: pass again at once.
			a.Logger.Info("paths changed during the pass; passing again", "folder", f.cfg.Name,
				"attempt", attempt, "of", attempts, "paths", len(res.Retry))
			continue
		}
		if err == nil || dryRun || !passRetryable(ctx, err) {
			return res, err
		}
		if attempt >= attempts {
			if attempts > 1 {
				err = fmt.Errorf("gave up after %d attempts: %w", attempts, err)
			}
			return res, err
		}
		wait := remote.Backoff(attempt-1, delay, retryMax)
		a.Logger.Warn("sync pass failed; retrying", "folder", f.cfg.Name, "attempt", attempt,
			"of", attempts, "err", err, "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, err
		case <-t.C:
		}
	}
}

// passRetryable reports whether a failed pass is worth running again:
// remote.IsTransient, the classification execute uses to stop a pass,
// less what it cannot tell apart from protocol trouble because it comes
// from the agent itself (the max_delete refusal, a closed state database).
// A cancelled or expired ctx is never retried: the caller asked to stop.
func passRetryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, ErrTooManyDeletes) || errors.Is(err, syncstate.ErrClosed) {
		return false
	}
	return remote.IsTransient(err)
}

// Status returns the state of every folder. Safe for concurrent use.
func (a *Agent) Status() []FolderStatus {
	a.mu.Lock()
	folders := a.folders
	a.mu.Unlock()
	out := make([]FolderStatus, len(folders))
	for i, f := range folders {
		out[i] = f.Status()
	}
	return out
}

// Close releases the connections and the state database.
func (a *Agent) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.pools {
		p.Close()
	}
	return a.db.Close()
}

// linePrefixer writes each line after prefix. Like the writer it wraps,
// it is not safe for concurrent use.
type linePrefixer struct {
	w      io.Writer
	prefix string
	mid    bool // within a line: its prefix is written
}

func (p *linePrefixer) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if !p.mid {
			if _, err := io.WriteString(p.w, p.prefix); err != nil {
				return n, err
			}
			p.mid = true
		}
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i+1]
			p.mid = false
		}
		m, err := p.w.Write(line)
		n += m
		if err != nil {
			return n, err
		}
		b = b[len(line):]
	}
	return n, nil
}
