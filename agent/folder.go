package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncagent/syncagent/agent/ignore"
	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/agent/status"
	"github.com/syncagent/syncagent/syncstate"
)

// minDeleteGuard is the number of deletions below which max_delete does not
// apply: removing two of three files is an edit, not a lost disk.
const minDeleteGuard = 5

// ErrTooManyDeletes marks a pass refused by the max_delete guard.
var ErrTooManyDeletes = errors.New("pass refused by max_delete")

// folder syncs one configured folder. Its pass and run methods are called
// from one goroutine at a time; status reads take mu.
type folder struct {
	cfg     FolderConfig
	mode    plan.Mode
	root    string // local, absolute
	rroot   string // remote, absolute
	ig      *ignore.Matcher
	rem     *remote.Pool
	db      *syncstate.DB
	log     *slog.Logger
	workers int
	now     func() time.Time
	agentID string // names conflict copies (Agent.ID)

	// base mirrors the folder's syncstate records; remote is the last
	// known remote listing, kept current with the agent's own changes.
	base       map[string]syncstate.Entry
	remote     map[string]remoteFacts
	haveRemote bool
	relist     atomic.Bool // a conditional write failed: the next pass lists the remote afresh

	// tempsMayLeak: a download failed, maybe leaving its temporary in a
	// folder renamed under it; the next full pass removes local ones.
	tempsMayLeak atomic.Bool
	// hidesDotNames: the server's listings leave out dot names (hidden.go).
	hidesDotNames bool
	names         caseProbe // which remote names the local disk can hold
	walks         walkCache // remote listings re-used while a directory's modify fact stands

	// staleAge: remote temporaries older than this are debris (cleanRemoteTemps).
	staleAge time.Duration
	live     liveSettings // the run loop's watcher and quiet-file settings (watchkeep.go)

	mu     sync.Mutex
	status FolderStatus

	metrics Metrics
	started time.Time              // when the folder was created: changes after it count for latency
	xfers   map[*inflight]struct{} // transfers in flight, under mu

	refused refusals // permanent failures, logged once; remote deletes the server refuses

	// afterList, when set (by tests), runs after a full pass has listed
	// the remote and before it plans: the moment another writer's change
	// is invisible to the pass and must be caught by a conditional write.
	afterList func()
}

// FolderStatus is what a folder is doing, for logs and the status endpoint.
type FolderStatus struct {
	Name      string    `json:"name"`
	State     string    `json:"state"` // idle, scanning, syncing, error
	LastSync  time.Time `json:"last_sync,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	// Watcher says why the folder is not watched for changes, if it is not.
	Watcher   string `json:"watcher,omitempty"`
	Conflicts int    `json:"conflicts"`
	Queued    int    `json:"queued"`
	// BytesQueued is the size of the uploads and downloads still to run.
	BytesQueued int64              `json:"bytes_queued"`
	Transfers   []TransferStatus   `json:"transfers,omitempty"`
	Uploaded    int64              `json:"files_uploaded"`
	Downloaded  int64              `json:"files_downloaded"`
	Problems    []status.PathError `json:"problems,omitempty"`
	// Skipped are the entries the last full scan left out for their kind.
	Skipped []status.Skipped `json:"skipped,omitempty"`
}

func newFolder(cfg FolderConfig, rem *remote.Pool, db *syncstate.DB, workers int, log *slog.Logger) (*folder, error) {
	mode, err := plan.ParseMode(cfg.Mode)
	if err != nil {
		return nil, err
	}
	ig, err := ignore.New(cfg.Ignore)
	if err != nil {
		return nil, fmt.Errorf("folder %s: ignore: %w", cfg.Name, err)
	}
	base, err := db.Folder(cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("folder %s: load state: %w", cfg.Name, err)
	}
	f := &folder{
		cfg: cfg, mode: mode, root: cfg.Path, rroot: cfg.Remote, ig: ig, rem: rem, db: db,
		log: log.With("folder", cfg.Name), workers: max(workers, 1), now: time.Now,
		base: base, status: FolderStatus{Name: cfg.Name, State: "idle"},
		metrics: nopMetrics{}, started: time.Now(),
	}
	f.walks.db, f.walks.folder, f.walks.log = db, cfg.Name, f.log
	return f, nil
}

func (f *folder) setState(state string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status.State = state
	if err != nil {
		f.status.LastError = err.Error()
		f.status.State = "error"
		f.metrics.Error(f.cfg.Name, "pass")
	}
}

// Status returns a copy of the folder's status. Safe for concurrent use.
func (f *folder) Status() FolderStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.status
	st.Problems = slices.Clone(f.status.Problems)
	st.Transfers = f.transfersLocked()
	return st
}

// passResult says what a pass did.
type passResult struct {
	Plan     plan.Plan
	Done     int
	Problems map[string]error // per-path failures that did not stop the pass
	Retry    []string         // paths to look at again soon (changed while read, conflict copies)
	// Replanned are the paths of Retry whose action failed because the
	// remote changed under it (replan.go), with why: status shows them
	// until a pass syncs them.
	Replanned map[string]error
}

// pass reconciles the folder. With scope nil it scans everything and lists
// the remote; otherwise it looks only at the given paths (and their
// subtrees), using the cached remote listing. With dryRun it only plans,
// writing the plan to out.
func (f *folder) pass(ctx context.Context, scope []string, dryRun bool, out io.Writer) (passResult, error) {
	res := passResult{Problems: make(map[string]error)}
	full := scope == nil || !f.haveRemote
	if f.relist.Swap(false) {
		full = true
	}
	f.setState("scanning", nil)
	var local scanResult
	if full {
		if f.tempsMayLeak.Swap(false) && !dryRun {
			// No download runs between passes: every one found is debris.
			if n, err := removeLocalTemps(f.root); err != nil || n > 0 {
				f.log.Info("removed local temporaries of failed downloads", "count", n, "err", err)
			}
		}
		local = scanLocal(f.root, "", f.ig, len(f.base), f.base)
		if err, ok := local.Unreadable[""]; ok && errors.Is(err, errNotDir) {
			return res, fmt.Errorf("folder %s: path %s is not a directory; nothing was changed: %w", f.cfg.Name, f.root, err)
		} else if ok {
			return res, fmt.Errorf("folder %s: cannot read %s (is the disk mounted?): %w", f.cfg.Name, f.root, err)
		}
		f.noteSkipped(local.Skipped)
		// The next listing is built in the last one's place, so the two
		// are never held at once; a failed listing leaves none, and the
		// next pass is a full one.
		prev := f.remote
		f.remote, f.haveRemote = nil, false
		rm, err := f.listRemoteRoot(ctx, dryRun, prev)
		if err != nil {
			return res, err
		}
		f.remote, f.haveRemote = rm, true
		if err := f.lookUpHidden(ctx, local); err != nil {
			return res, fmt.Errorf("folder %s: %w", f.cfg.Name, err)
		}
		if !dryRun {
			f.removeStaleTemps(ctx)
		}
		if f.afterList != nil {
			f.afterList()
		}
	} else {
		local = f.scanScope(scope)
		scope = f.widenForRenames(scope, local)
	}
	for p, err := range local.Unreadable {
		res.Problems[p] = err
	}
	paths := f.pathsFor(full, scope, local)
	paths = f.checkNames(paths, local, &res)
	// A pass over a folder in sync plans its directories and nothing
	// else: room for them up front saves growing a slice of 300-byte
	// items a dozen times (5 MB of garbage for 5,000 directories).
	items := make([]plan.Item, 0, local.Dirs)
	gone := f.goneSizes(paths, local.Entries)
	for _, p := range paths {
		if blockedBy(p, local.Unreadable) || skippedAt(p, local.Skipped) {
			continue
		}
		it, err := f.item(p, local.Entries, gone)
		if err != nil {
			if errors.Is(err, errChanged) {
				res.Retry = append(res.Retry, p)
			} else {
				res.Problems[p] = err
			}
			continue
		}
		if inSyncFile(f.mode, it) {
			continue // nothing to do, and nothing for the planner to pair
		}
		items = append(items, it)
	}
	items, err := f.resolveCompares(ctx, items)
	if err != nil {
		return res, err
	}
	pl := plan.Build(f.mode, items)
	res.Plan = pl
	if err := f.checkDeletes(full, pl, local); err != nil {
		return res, err
	}
	if dryRun {
		for _, a := range pl.Actions {
			if a.Kind != plan.Nothing {
				fmt.Fprintln(out, a.String())
			}
		}
		return res, nil
	}
	if len(pl.Actions) > 0 {
		f.setState("syncing", nil)
	}
	todo, todoItems := pending(pl, items)
	items = nil // a folder in sync needs none of them: let them go
	if err := f.execute(ctx, todo, todoItems, &res); err != nil {
		return res, err
	}
	if err := f.db.Flush(); err != nil {
		return res, fmt.Errorf("folder %s: save state: %w", f.cfg.Name, err)
	}
	f.mu.Lock()
	f.status.State = "idle"
	f.status.LastError = ""
	f.status.LastSync = f.now()
	f.status.Problems = f.status.Problems[:0]
	for p, err := range res.Problems {
		f.status.Problems = append(f.status.Problems, status.PathError{Path: p, Error: err.Error()})
	}
	for p, err := range res.Replanned {
		f.status.Problems = append(f.status.Problems, status.PathError{Path: p, Error: "planning again from a fresh listing: " + err.Error()})
	}
	slices.SortFunc(f.status.Problems, func(a, b status.PathError) int { return strings.Compare(a.Path, b.Path) })
	f.metrics.Synced(f.cfg.Name, f.status.LastSync)
	f.mu.Unlock()
	f.log.Debug("pass done", "full", scope == nil, "actions", res.Done)
	return res, nil
}

// listRemoteRoot lists the remote folder. A missing remote folder is
// created on a first sync (push, two-way) and in push mode (the remote is a
// mirror); for pull, or two-way with a sync history, it is an error: the
// usual cause is a wrong path or a server that lost its disk, and taking it
// as "everything was deleted" would empty the local folder. A dry run
// changes nothing: it takes the folder to be created as empty. prev is
// the last listing, which the walk re-uses in place (see walkCache.walk).
func (f *folder) listRemoteRoot(ctx context.Context, dryRun bool, prev map[string]remoteFacts) (map[string]remoteFacts, error) {
	rm, err := f.walks.walk(ctx, f.rem, f.rroot, f.workers, f.skipRemote, f.base, prev)
	if err == nil {
		return rm, nil
	}
	if remote.ReplyCode(err) != 550 {
		return nil, fmt.Errorf("folder %s: list remote %s: %w", f.cfg.Name, f.rroot, err)
	}
	if f.mode == plan.Pull || (f.mode == plan.TwoWay && len(f.base) > 0) {
		return nil, fmt.Errorf("folder %s: remote folder %s does not exist on the server (wrong path, or lost data?); nothing was changed locally: %w",
			f.cfg.Name, f.rroot, err)
	}
	if dryRun {
		return map[string]remoteFacts{}, nil
	}
	if err := f.rem.MkdirAll(ctx, f.rroot); err != nil {
		return nil, fmt.Errorf("folder %s: create remote folder %s: %w", f.cfg.Name, f.rroot, err)
	}
	f.log.Info("created remote folder", "remote", f.rroot)
	return map[string]remoteFacts{}, nil
}

// skipRemote prunes the remote listing: the agent's temporaries, ignored
// paths.
func (f *folder) skipRemote(rel string, e remote.Entry) bool {
	return f.ig.Match(rel, e.Dir)
}

// scanScope looks at the given paths: a directory is scanned with its
// subtree, a file is stat'ed.
func (f *folder) scanScope(scope []string) scanResult {
	res := scanResult{Entries: make(map[string]scanned), Unreadable: make(map[string]error), Skipped: make(map[string]string)}
	for _, p := range scope {
		e, ok, err := statLocal(f.root, p)
		switch {
		case !ok && err == nil && specialAt(f.root, p) != "" && !f.ig.Match(p, false):
			res.Skipped[p] = specialAt(f.root, p)
		case err != nil:
			res.Unreadable[p] = err
		case !ok:
		case f.ig.Match(p, e.Dir):
		case e.Dir:
			sub := scanLocal(f.root, p, f.ig, 0, nil)
			for k, v := range sub.Entries {
				res.Entries[k] = v
			}
			for k, v := range sub.Unreadable {
				res.Unreadable[k] = v
			}
			for k, v := range sub.Skipped {
				res.Skipped[k] = v
			}
			res.Dirs += sub.Dirs
		default:
			res.Entries[p] = scannedOf(e)
		}
	}
	return res
}

// pathsFor lists every path a pass must decide on: all known paths for a
// full pass, or the scope's paths with everything known below them.
func (f *folder) pathsFor(full bool, scope []string, local scanResult) []string {
	if full {
		// Every path once, without a set of them all: the local ones,
		// then the synced and remote ones not already taken.
		out := make([]string, 0, max(len(local.Entries), len(f.base), len(f.remote))+len(f.remote)/16)
		for p := range local.Entries {
			out = append(out, p)
		}
		for p := range f.base {
			if _, ok := local.Entries[p]; !ok {
				out = append(out, p)
			}
		}
		for p := range f.remote {
			_, inLocal := local.Entries[p]
			_, inBase := f.base[p]
			if !inLocal && !inBase {
				out = append(out, p)
			}
		}
		sort.Strings(out)
		return out
	}
	set := make(map[string]struct{})
	for p := range local.Entries {
		set[p] = struct{}{}
	}
	inScope := func(p string) bool {
		for _, s := range scope {
			if under(p, s) {
				return true
			}
		}
		return false
	}
	for p := range f.base {
		if inScope(p) {
			set[p] = struct{}{}
		}
	}
	for p := range f.remote {
		if inScope(p) {
			set[p] = struct{}{}
		}
	}
	for _, s := range scope {
		if s != "" && !f.ig.Match(s, false) {
			set[s] = struct{}{}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// blockedBy reports whether p lies in (or is) a directory that could not be
// read, so its true state is unknown.
func blockedBy(p string, unreadable map[string]error) bool {
	for d := range unreadable {
		if under(p, d) {
			return true
		}
	}
	return false
}

// item gathers local, remote and base state for one path, hashing a local
// file only when its size or mtime moved since the base.
func (f *folder) item(p string, local map[string]scanned, gone map[int64]bool) (plan.Item, error) {
	it := plan.Item{Path: p}
	b, hasBase := f.base[p]
	if hasBase {
		it.Base = plan.Base{Exists: true, Dir: b.Dir, Size: b.Size, MTime: b.MTime, Hash: b.Hash,
			RemoteSize: b.RemoteSize, RemoteMTime: b.RemoteMTime, RemoteID: b.RemoteID}
	}
	if s, ok := local[p]; ok {
		l := s.entry()
		it.Local = plan.Side{Exists: true, Dir: l.Dir, Size: l.Size, MTime: l.MTime}
		if !l.Dir {
			if hasBase && !b.Dir && b.Size == l.Size && b.MTime.Equal(l.MTime) {
				it.Local.Hash, it.Local.HashKnown = b.Hash, true
			} else if f.needsLocalHash(l, b, hasBase, gone) {
				sum, st, err := hashFile(filepath.Join(f.root, filepath.FromSlash(p)))
				if err != nil {
					return it, err
				}
				it.Local.Hash, it.Local.HashKnown = sum, true
				it.Local.Size, it.Local.MTime = st.Size, st.MTime
			}
		}
	}
	if r, ok := f.remote[p]; ok {
		it.Remote = plan.Side{Exists: true, Dir: r.Dir, Size: r.Size, MTime: r.modTime(), ID: r.ID}
		if !r.Dir && hasBase && !b.Dir && b.RemoteSize == r.Size &&
			remote.SameTime(b.RemoteMTime, it.Remote.MTime, r.prec.duration()) &&
			(b.RemoteID == "" || r.ID == "" || b.RemoteID == r.ID) {
			// The file the base describes. A LIST line gives only the
			// minute (or the day) of the time the base holds to the
			// second, from MDTM after an upload: the base's time stands
			// in for it. (A same-size change within that minute shows
			// only while the file is recent, when List asks MDTM and the
			// time comes exact: see remote.RecentListed.)
			it.Remote.MTime = b.RemoteMTime
			it.Remote.Hash, it.Remote.HashKnown = b.Hash, true
		}
	} else if f.listingHides(p, hasBase) {
		it.Remote = remoteAsSynced(b)
	}
	return it, nil
}

// goneSizes collects the sizes of files that vanished locally since the
// base, among the paths of this pass: a new file of such a size may be one
// of them renamed, which only its hash can tell.
func (f *folder) goneSizes(paths []string, local map[string]scanned) map[int64]bool {
	gone := make(map[int64]bool)
	for _, p := range paths {
		if b, ok := f.base[p]; ok && !b.Dir {
			if _, here := local[p]; !here {
				gone[b.Size] = true
			}
		}
	}
	return gone
}

// needsLocalHash says whether the planner needs a changed local file's
// hash before it is sent: in two-way mode (to tell a conflict from the same
// edit on both sides), when the size did not change (a touched file may be
// unchanged), and when a vanished file had its size (a rename). Otherwise
// the upload hashes it while streaming, and reading a large file twice for
// nothing is avoided.
func (f *folder) needsLocalHash(l localEntry, b syncstate.Entry, hasBase bool, gone map[int64]bool) bool {
	return f.mode == plan.TwoWay || (hasBase && !b.Dir && b.Size == l.Size) || gone[l.Size]
}

// resolveCompares fetches remote hashes for files the planner could not
// tell apart by size, so it can decide between "same" and "changed".
func (f *folder) resolveCompares(ctx context.Context, items []plan.Item) ([]plan.Item, error) {
	for i := range items {
		it := &items[i]
		if plan.Decide(f.mode, *it).Kind != plan.Compare {
			continue
		}
		sum, err := f.rem.Hash(ctx, joinRemote(f.rroot, it.Path))
		if errors.Is(err, remote.ErrNotSupported) {
			// Without HASH the remote content is unknown: treat it as
			// different, which for two-way keeps both copies.
			it.Remote.HashKnown = true
			it.Remote.Hash = [32]byte{1}
			if it.Local.Hash == it.Remote.Hash {
				it.Remote.Hash = [32]byte{2}
			}
			continue
		}
		if err != nil {
			return items, fmt.Errorf("hash remote %s: %w", it.Path, err)
		}
		it.Remote.Hash, it.Remote.HashKnown = sum, true
	}
	return items, nil
}

// checkDeletes applies max_delete to a full pass: an emptied side (a wrong
// path, an unmounted disk, a server that lost its data) must never empty
// the other one. Deletions the watcher saw happen are the user's own and
// are not limited.
func (f *folder) checkDeletes(full bool, pl plan.Plan, local scanResult) error {
	if !full {
		return nil
	}
	for _, c := range []struct {
		kind  plan.Kind
		where string
	}{{plan.DeleteRemote, "remote"}, {plan.DeleteLocal, "local"}} {
		doomed := make(map[string]bool)
		for _, a := range pl.Actions {
			if a.Kind == c.kind && !f.refused.has(a) {
				doomed[a.Path] = true
			}
		}
		if len(doomed) == 0 {
			continue // the usual case: no list of every file
		}
		var files []string
		if c.kind == plan.DeleteRemote {
			files = filesOf(f.remote, func(e remoteFacts) bool { return e.Dir })
		} else {
			files = filesOf(local.Entries, func(e scanned) bool { return e.Dir })
		}
		deletes := 0
		for _, p := range files {
			for q := p; ; q = parentOf(q) {
				if doomed[q] {
					deletes++
					break
				}
				if q == "" {
					break
				}
			}
		}
		limit := f.cfg.MaxDeleteLimit(len(files))
		if deletes > limit && deletes > minDeleteGuard {
			return fmt.Errorf("%w: folder %s: this pass would delete %d of %d %s files (max_delete %s); "+
				"check that %s and %s are the right folders and are mounted, or raise max_delete for one run",
				ErrTooManyDeletes, f.cfg.Name, deletes, len(files), c.where, f.cfg.MaxDelete, f.root, f.rroot)
		}
	}
	return nil
}

// filesOf returns the paths of m that are not directories.
func filesOf[E any](m map[string]E, isDir func(E) bool) []string {
	out := make([]string, 0, len(m))
	for p, e := range m {
		if !isDir(e) {
			out = append(out, p)
		}
	}
	return out
}

// parentOf returns the parent of a relative slash path ("" for top level).
func parentOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// inSyncFile reports whether it is a file present on both sides and in the
// synced state, unchanged on both since, which the planner leaves alone
// whatever else the pass holds: it is no rename's old path (that vanished
// from a side) or new one (never synced), and its parent directories exist
// on both sides, so no tree rule can rewrite it. Leaving such items out
// keeps a pass over a large folder in sync from carrying, copying and
// sorting a plan item per file. Directories always go to the planner.
func inSyncFile(mode plan.Mode, it plan.Item) bool {
	return it.Local.Exists && !it.Local.Dir && it.Remote.Exists && !it.Remote.Dir &&
		it.Base.Exists && !it.Base.Dir && plan.Decide(mode, it).Kind == plan.Nothing
}

// pending returns the actions of pl that do something, and the items they
// name (their path, and a rename's target), so that a pass over a large
// folder in sync does not carry an item per path through execution.
func pending(pl plan.Plan, items []plan.Item) (plan.Plan, []plan.Item) {
	need := make(map[string]bool)
	var out plan.Plan
	for _, a := range pl.Actions {
		if a.Kind == plan.Nothing {
			continue
		}
		out.Actions = append(out.Actions, a)
		need[a.Path] = true
		if a.To != "" {
			need[a.To] = true
		}
	}
	var its []plan.Item
	for _, it := range items {
		if need[it.Path] {
			its = append(its, it)
		}
	}
	return out, its
}
