package agent

import (
	"context"
	"sync"
	"time"

	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/remote"
)

// refusals remembers actions that failed permanently (a 5xx reply, a
// local error), so that each is logged once at warn level rather than on
// every pass, and so that remote deletes and renames the server refuses by
// policy (an append-only account answers DELE, RMD and RNTO over a file
// with 550) are not sent again on every poll. An entry is dropped when the
// action succeeds; a policy refusal is retried after a while (the folder's
// rescan interval), in case the account changed. The zero value is ready;
// it is safe for concurrent use by a folder's transfer workers.
type refusals struct {
	mu sync.Mutex
	m  map[refusalKey]refusal
}

type refusalKey struct {
	kind plan.Kind
	path string
}

type refusal struct {
	err error
	at  time.Time
}

// note records a permanent failure of a and reports whether it is new
// (the first since the action last succeeded).
func (r *refusals) note(a plan.Action, err error, now time.Time) (first bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[refusalKey]refusal)
	}
	k := refusalKey{a.Kind, a.Path}
	old, seen := r.m[k]
	if seen {
		now = old.at // keep the time of the first refusal: retry relative to it
	}
	r.m[k] = refusal{err: err, at: now}
	return !seen
}

// forget drops what is known about a after it succeeded.
func (r *refusals) forget(a plan.Action) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, refusalKey{a.Kind, a.Path})
}

// refusedByPolicy returns the remembered refusal of a remote delete,
// rename or (5xx only) upload of a newer than retryAfter, or nil when the action should be
// tried. Once retryAfter has passed, the entry's clock restarts so the
// action is tried once, not on every pass, while the refusal lasts.
func (r *refusals) refusedByPolicy(a plan.Action, now time.Time, retryAfter time.Duration) error {
	if a.Kind != plan.DeleteRemote && a.Kind != plan.RenameRemote && a.Kind != plan.Upload {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := refusalKey{a.Kind, a.Path}
	old, ok := r.m[k]
	// An upload is held back only when the server refused it (5xx): an
	// append-only account refuses to rename the upload over the old file,
	// and every try would leave a temporary it may not delete either.
	if !ok || a.Kind == plan.Upload && remote.ReplyCode(old.err)/100 != 5 {
		return nil
	}
	if now.Sub(old.at) >= retryAfter {
		r.m[k] = refusal{err: old.err, at: now}
		return nil
	}
	return old.err
}

// remoteGone tells, after a 550 reply to a delete, whether the remote path
// is really gone (deleted meanwhile: the goal is reached) or still there
// (the server refused). Directories are listed, files stat'ed.
func (f *folder) remoteGone(ctx context.Context, p string, dir bool) (bool, error) {
	var err error
	if dir {
		_, err = f.rem.List(ctx, p)
	} else {
		_, err = f.rem.Stat(ctx, p)
	}
	switch {
	case err == nil:
		return false, nil
	case remote.ReplyCode(err) == 550:
		return true, nil
	}
	return false, err
}

// has reports whether a is remembered as refused by the server, whatever
// its age. The max_delete guard does not count such deletes: they were
// planned (and passed the guard) before, and they change nothing.
func (r *refusals) has(a plan.Action) bool {
	if a.Kind != plan.DeleteRemote {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.m[refusalKey{a.Kind, a.Path}]
	return ok
}
