package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/remote"
)

// errParentGone marks an action that failed because the remote directory
// holding its path is gone since the listing the plan came from: another
// client renamed or deleted it. Retrying the action would fail the same
// way for as long as the agent trusted that listing; the path is planned
// again from a fresh one instead (see execute's record).
var errParentGone = errors.New("its remote folder is gone since it was listed")

// checkParentGone turns err, the failure of action a, into errParentGone
// when it is a 550 and the server no longer has a's parent directory
// (below the folder's root, which listRemoteRoot looks after). Any other
// failure, and a failed check, is returned as it was.
func (f *folder) checkParentGone(ctx context.Context, a plan.Action, err error) error {
	if err == nil || remote.ReplyCode(err) != 550 {
		return err
	}
	parent := parentOf(a.Path)
	if parent == "" {
		return err
	}
	if there, serr := f.rem.Exists(ctx, joinRemote(f.rroot, parent), true); serr != nil || there {
		return err
	}
	return fmt.Errorf("%w: %w", errParentGone, err)
}

// replanned notes that a's path is planned again from a fresh listing
// because of err, so that status shows it until a pass syncs it. Called
// under execute's lock.
func (res *passResult) replanned(a plan.Action, err error) {
	if res.Replanned == nil {
		res.Replanned = make(map[string]error)
	}
	res.Replanned[a.Path] = err
	res.Retry = append(res.Retry, a.Path)
}
