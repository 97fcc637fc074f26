package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/internal/crashpoint"
	"github.com/syncagent/syncagent/syncstate"
)

// execute performs a plan in the planner's order, running each run of
// consecutive uploads and downloads in parallel over the connection pool. A
// transient (network) error stops the pass so it is retried as a whole;
// any other error is recorded against its path and the rest goes on.
func (f *folder) execute(ctx context.Context, pl plan.Plan, items []plan.Item, res *passResult) error {
	byPath := make(map[string]plan.Item, len(items))
	for _, it := range items {
		byPath[it.Path] = it
	}
	f.mu.Lock()
	f.status.Queued = pl.Len() - pl.Count(plan.Nothing)
	f.status.BytesQueued = 0
	for _, a := range pl.Actions {
		f.status.BytesQueued += transferSize(a, byPath[a.Path])
	}
	f.metrics.Queue(f.cfg.Name, f.status.Queued)
	f.mu.Unlock()
	var mu sync.Mutex
	var fatal error
	record := func(a plan.Action, err error) {
		mu.Lock()
		defer mu.Unlock()
		f.mu.Lock()
		f.status.Queued--
		f.status.BytesQueued -= transferSize(a, byPath[a.Path])
		f.metrics.Queue(f.cfg.Name, f.status.Queued)
		f.mu.Unlock()
		if err != nil {
			f.metrics.Error(f.cfg.Name, errorKind(ctx, err))
		}
		if err == nil {
			res.Done++
			f.refused.forget(a)
			return
		}
		switch {
		case errors.Is(err, remote.ErrPrecondition):
			// Someone changed the remote path since it was listed: list
			// again and plan it afresh (see cond.go).
			f.log.Info("remote changed since it was listed; planning again", "action", a.String())
			f.relist.Store(true)
			res.replanned(a, err)
		case errors.Is(err, errParentGone):
			f.log.Warn("remote folder gone (renamed or deleted by another client?); planning again from a fresh listing",
				"action", a.String(), "err", err)
			f.relist.Store(true)
			res.replanned(a, err)
		case errors.Is(err, errChanged), errors.Is(err, remote.ErrSourceChanged):
			res.Retry = append(res.Retry, a.Path)
		case remote.IsTransient(err) || ctx.Err() != nil:
			if fatal == nil {
				fatal = fmt.Errorf("%s: %w", a, err)
			}
		default:
			if f.refused.note(a, err, f.now()) {
				f.log.Warn("action failed", "action", a.String(), "err", err)
			} else {
				f.log.Debug("action failed again", "action", a.String(), "err", err)
			}
			res.Problems[a.Path] = err
		}
	}
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		if fatal != nil {
			return fatal
		}
		return ctx.Err()
	}
	var batch []plan.Action
	runBatch := func() {
		sem := make(chan struct{}, f.workers)
		var wg sync.WaitGroup
		spawn := func(fn func()) {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				fn()
			}()
		}
		chunks, rest := f.batchable(ctx, batch, byPath)
		for _, c := range chunks {
			if failed() != nil {
				break
			}
			spawn(func() { f.uploadChunk(ctx, c, byPath, record) })
		}
		for _, a := range rest {
			if failed() != nil {
				break
			}
			spawn(func() { record(a, f.do(ctx, a, byPath[a.Path], res)) })
		}
		wg.Wait()
		batch = batch[:0]
	}
	for _, a := range pl.Actions {
		if err := failed(); err != nil {
			return err
		}
		switch a.Kind {
		case plan.Nothing:
			continue
		case plan.Upload, plan.Download:
			batch = append(batch, a)
			continue
		case plan.MkdirRemote:
			// Nothing gathered so far needs to come first (an upload
			// to this path would have been preceded by a delete), so
			// the gathered transfers need not wait: they all run
			// together later, in fewer, fuller batches.
			record(a, f.do(ctx, a, byPath[a.Path], res))
			continue
		}
		runBatch()
		if err := failed(); err != nil {
			return err
		}
		record(a, f.do(ctx, a, byPath[a.Path], res))
	}
	runBatch()
	return failed()
}

// do performs one action and records its outcome in the state only once
// the other side confirmed it.
func (f *folder) do(ctx context.Context, a plan.Action, it plan.Item, res *passResult) error {
	lpath := filepath.Join(f.root, filepath.FromSlash(a.Path))
	rpath := joinRemote(f.rroot, a.Path)
	if err := f.refused.refusedByPolicy(a, f.now(), f.cfg.Rescan.D()); err != nil {
		return err
	}
	switch a.Kind {
	case plan.Upload:
		return f.upload(ctx, a.Path, it)
	case plan.Download:
		return f.checkParentGone(ctx, a, f.download(ctx, a.Path, it))
	case plan.MkdirRemote:
		if err := f.rem.MkdirAll(ctx, rpath); err != nil {
			return err
		}
		f.setRemote(a.Path, remote.Entry{Name: filepath.Base(a.Path), Dir: true})
		f.put(syncstate.Entry{Path: a.Path, Dir: true})
		return nil
	case plan.MkdirLocal:
		if err := os.MkdirAll(lpath, 0o755); err != nil {
			return err
		}
		f.put(syncstate.Entry{Path: a.Path, Dir: true})
		return nil
	case plan.DeleteRemote:
		crashpoint.Hit(crashpoint.DeleteStart)
		var err error
		if it.Remote.Dir {
			err = f.rem.RemoveTreeIf(ctx, rpath, f.expectKnown)
		} else {
			err = f.rem.DeleteIf(ctx, rpath, f.expectSide(a.Path, it.Remote))
		}
		if err != nil && remote.ReplyCode(err) != 550 {
			return err
		}
		if err != nil { // 550: gone already, or refused (an append-only account)?
			if gone, serr := f.remoteGone(ctx, rpath, it.Remote.Dir); serr != nil {
				return serr
			} else if !gone {
				return fmt.Errorf("server refused the delete: %w", err)
			}
		}
		crashpoint.Hit(crashpoint.DeleteDone)
		f.dropRemote(a.Path)
		f.del(a.Path)
		crashpoint.Hit(crashpoint.DeleteSaved)
		f.log.Info("deleted remote", "path", a.Path)
		return nil
	case plan.DeleteLocal:
		if err := f.deleteLocal(a.Path, it); err != nil {
			return err
		}
		f.del(a.Path)
		f.log.Info("deleted local", "path", a.Path)
		return nil
	case plan.RenameRemote:
		crashpoint.Hit(crashpoint.RenameStart)
		if err := f.rem.RenameIf(ctx, rpath, joinRemote(f.rroot, a.To), f.expectSide(a.Path, it.Remote), &remote.Expect{Absent: true}); err != nil {
			return f.checkParentGone(ctx, a, err)
		}
		crashpoint.Hit(crashpoint.RenameDone)
		f.moveRemote(a.Path, a.To)
		f.move(a.Path, a.To)
		crashpoint.Hit(crashpoint.RenameSaved)
		f.log.Info("renamed remote", "from", a.Path, "to", a.To)
		return nil
	case plan.RenameLocal:
		to := filepath.Join(f.root, filepath.FromSlash(a.To))
		if _, err := os.Lstat(to); err == nil {
			// A local problem of this path (a LinkError, as os.Rename's
			// own), not a network one that would stop the pass.
			return &os.LinkError{Op: "rename", Old: a.Path, New: a.To, Err: fs.ErrExist}
		}
		if !it.Local.Dir {
			// A file the user edited since the plan stays where the edit
			// was made: planned again, the edit wins over the remote
			// rename's delete of the old name.
			if err := f.unchangedSincePlan(a.Path, it); err != nil {
				return err
			}
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.Rename(lpath, to); err != nil {
			return err
		}
		f.move(a.Path, a.To)
		f.log.Info("renamed local", "from", a.Path, "to", a.To)
		return nil
	case plan.Conflict:
		return f.conflict(ctx, a.Path, it, res)
	case plan.RecordOnly:
		f.record(a.Path, it)
		return nil
	case plan.Forget:
		f.del(a.Path)
		return nil
	case plan.Nothing:
		return nil
	}
	return fmt.Errorf("%w: %v", errUnknownAction, a)
}

// errUnknownAction is an action the executor has no code for: a planner
// newer than its executor. It fails the path, never passes as done.
var errUnknownAction = errors.New("unknown action kind")

func (f *folder) upload(ctx context.Context, rel string, it plan.Item) error {
	lpath, fi, err := f.checkUpload(rel, it)
	if err != nil {
		return err
	}
	// The pool hashes while it streams and fails with ErrSourceChanged if
	// the file moves during the transfer; a change between the plan and
	// the open shows as a different hash.
	crashpoint.Hit(crashpoint.UploadStart)
	progress, untrack := f.track(rel, "upload", fi.Size())
	r, err := f.rem.UploadIf(ctx, lpath, joinRemote(f.rroot, rel), f.expectSide(rel, it.Remote), progress)
	untrack()
	if err != nil {
		return err
	}
	return f.uploaded(rel, it, fi, r)
}

// checkUpload makes sure the local file is still the one planned for
// upload, and returns its path and FileInfo.
func (f *folder) checkUpload(rel string, it plan.Item) (string, os.FileInfo, error) {
	lpath := filepath.Join(f.root, filepath.FromSlash(rel))
	fi, err := os.Stat(lpath)
	if err != nil {
		return "", nil, err
	}
	if fi.Size() != it.Local.Size || !fi.ModTime().Equal(it.Local.MTime) {
		return "", nil, errChanged
	}
	if f.live.holdLarge && fi.Size() >= LargeFile && time.Since(fi.ModTime()) < f.live.quiet {
		// Large and written to just now, maybe by a copy still running:
		// looked at again later, through the run loop's quiet hold, so a
		// pass that found it (a poll, a rescan, a retry) does not send it
		// half-written.
		return "", nil, errChanged
	}
	return lpath, fi, nil
}

// uploaded records an upload the server confirmed: the state, the status
// and the metrics.
func (f *folder) uploaded(rel string, it plan.Item, fi os.FileInfo, r remote.UploadResult) error {
	if it.Local.HashKnown && r.SHA256 != it.Local.Hash {
		return errChanged
	}
	f.setRemote(rel, r.Entry)
	f.put(syncstate.Entry{Path: rel, Size: fi.Size(), MTime: fi.ModTime(), Hash: r.SHA256,
		RemoteSize: r.Size, RemoteMTime: r.ModTime, RemoteID: r.ID})
	crashpoint.Hit(crashpoint.UploadSaved)
	f.mu.Lock()
	f.status.Uploaded++
	f.mu.Unlock()
	f.metrics.Transferred(f.cfg.Name, "upload", r.Size)
	f.observeLatency(fi.ModTime())
	f.log.Info("uploaded", "path", rel, "bytes", r.Size, "verified", r.Verified)
	return nil
}

func (f *folder) download(ctx context.Context, rel string, it plan.Item) error {
	lpath := filepath.Join(f.root, filepath.FromSlash(rel))
	// Never overwrite a local edit made since the plan: look again now.
	if cur, ok, err := statLocal(f.root, rel); err != nil {
		return err
	} else if ok != it.Local.Exists || ok && (cur.Size != it.Local.Size || !cur.MTime.Equal(it.Local.MTime)) {
		return errChanged
	}
	if err := os.MkdirAll(filepath.Dir(lpath), 0o755); err != nil {
		return err
	}
	crashpoint.Hit(crashpoint.DownloadStart)
	progress, untrack := f.track(rel, "download", it.Remote.Size)
	defer untrack()
	r, err := f.rem.DownloadChecked(ctx, joinRemote(f.rroot, rel), lpath, progress, func(remote.DownloadResult) error {
		return f.unchangedSincePlan(rel, it)
	})
	if err != nil {
		// The temporary is removed by its name, which a folder renamed
		// meanwhile (by the user) has moved: the next full pass looks.
		f.tempsMayLeak.Store(true)
		return err
	}
	// The file as placed, not as the path is now: an edit the user made
	// since the rename must read as a change on the next look.
	f.put(syncstate.Entry{Path: rel, Size: r.Placed.Size(), MTime: r.Placed.ModTime(), Hash: r.SHA256,
		RemoteSize: it.Remote.Size, RemoteMTime: it.Remote.MTime, RemoteID: it.Remote.ID})
	crashpoint.Hit(crashpoint.DownloadSaved)
	f.mu.Lock()
	f.status.Downloaded++
	f.mu.Unlock()
	f.metrics.Transferred(f.cfg.Name, "download", r.Size)
	f.observeLatency(it.Remote.MTime)
	f.log.Info("downloaded", "path", rel, "bytes", r.Size)
	return nil
}

// conflict keeps both contents: the local one moves to a conflict name
// (synced like any file on the next look) and the remote one takes the path.
func (f *folder) conflict(ctx context.Context, rel string, it plan.Item, res *passResult) error {
	name, err := f.conflictName(rel)
	if err != nil {
		return err
	}
	from := filepath.Join(f.root, filepath.FromSlash(rel))
	// Whatever is there moves aside whole, as Syncthing's conflict move
	// does: a file, a directory with its contents (synced under the
	// copy's name on the next look), a symlink.
	if _, err := os.Lstat(from); err == nil {
		if err := os.Rename(from, filepath.Join(f.root, filepath.FromSlash(name))); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f.mu.Lock()
	f.status.Conflicts++
	f.mu.Unlock()
	f.log.Warn("conflict: both sides changed; local copy kept", "path", rel, "copy", name)
	res.Retry = append(res.Retry, name)
	it.Local = plan.Side{}
	switch {
	case it.Remote.Exists && !it.Remote.Dir:
		return f.download(ctx, rel, it)
	case it.Remote.Dir:
		if err := os.MkdirAll(from, 0o755); err != nil {
			return err
		}
		f.put(syncstate.Entry{Path: rel, Dir: true})
	}
	return nil
}

// deleteLocal removes a local file or tree, refusing to remove content it
// has not seen (a file changed since the plan is kept).
func (f *folder) deleteLocal(rel string, it plan.Item) error {
	p := filepath.Join(f.root, filepath.FromSlash(rel))
	cur, ok, err := statLocal(f.root, rel)
	if err != nil || !ok {
		return err
	}
	if !cur.Dir {
		if cur.Size != it.Local.Size || !cur.MTime.Equal(it.Local.MTime) {
			return errChanged
		}
		return os.Remove(p)
	}
	err = os.RemoveAll(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// record stores the state of a path both sides already agree on.
func (f *folder) record(rel string, it plan.Item) {
	e := syncstate.Entry{Path: rel, Dir: it.Local.Dir || it.Remote.Dir, Size: it.Local.Size, MTime: it.Local.MTime,
		RemoteSize: it.Remote.Size, RemoteMTime: it.Remote.MTime, RemoteID: it.Remote.ID}
	switch {
	case it.Local.HashKnown:
		e.Hash = it.Local.Hash
	case it.Remote.HashKnown:
		e.Hash = it.Remote.Hash
	}
	f.put(e)
}

// State bookkeeping: the in-memory mirror and the database change together.
// Called from transfer workers, so they take the folder's lock.

func (f *folder) put(e syncstate.Entry) {
	f.mu.Lock()
	f.base[e.Path] = e
	f.mu.Unlock()
	if err := f.db.Put(f.cfg.Name, e); err != nil {
		f.log.Error("save state", "path", e.Path, "err", err)
	}
}

func (f *folder) del(p string) {
	f.mu.Lock()
	for k := range f.base {
		if under(k, p) {
			delete(f.base, k)
		}
	}
	f.mu.Unlock()
	if err := f.db.Delete(f.cfg.Name, p); err != nil {
		f.log.Error("save state", "path", p, "err", err)
	}
}

func (f *folder) move(from, to string) {
	f.mu.Lock()
	var moved []syncstate.Entry
	for k, e := range f.base {
		if under(k, from) {
			e.Path = to + k[len(from):]
			moved = append(moved, e)
		}
	}
	f.mu.Unlock()
	f.del(from)
	for _, e := range moved {
		f.put(e)
	}
}

func (f *folder) setRemote(p string, e remote.Entry) {
	f.mu.Lock()
	f.remote[p] = factsOf(e)
	f.mu.Unlock()
}

func (f *folder) dropRemote(p string) {
	f.mu.Lock()
	for k := range f.remote {
		if under(k, p) {
			delete(f.remote, k)
		}
	}
	f.mu.Unlock()
}

func (f *folder) moveRemote(from, to string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, e := range f.remote {
		if under(k, from) {
			delete(f.remote, k)
			f.remote[to+k[len(from):]] = e
		}
	}
}
