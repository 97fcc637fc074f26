package agent

import (
	"context"
	"sort"
	"strings"

	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/syncstate"
)

// Listings that hide names. Some servers leave dot files out of their
// listings: vsftpd's LIST does unless asked with -a (which the remote
// package always sends), and a server may be set up to hide them whatever
// the client asks (vsftpd's hide_file, for one). A name the listing could
// not show must never read as deleted there: two-way would delete the
// local file (a git checkout's .git), and push would upload it again on
// every pass.
//
// So after each full listing, a synced dot path that the listing lacks,
// below a directory it shows, is asked about directly (Pool.Exists). If
// the server has it, the folder is marked as hiding dot names for the rest
// of the agent's life, and from then on a synced dot path missing from a
// listing is taken to be as it was synced: never deleted locally, never
// uploaded again. What such a server hides cannot be seen changing: a
// remote edit or delete of a dot file there reaches no other side, and a
// new remote dot file is never downloaded.

// maxHiddenProbes bounds the paths one pass asks the server about: if
// that many synced dot paths are really gone, the server shows dot names.
const maxHiddenProbes = 8

// dotPath reports whether a component of the slash path p starts with a
// dot (the path is a dot file, or lies in a dot directory).
func dotPath(p string) bool {
	return strings.HasPrefix(p, ".") || strings.Contains(p, "/.")
}

// detectHiddenNames runs after a full listing (f.remote): unless the
// folder is already known to hide dot names, it asks the server about the
// synced dot paths the listing lacks whose parent it shows, at most
// maxHiddenProbes of them, and marks the folder if one is there. A failed
// question leaves the mark as it was; the next pass asks again.
func (f *folder) detectHiddenNames(ctx context.Context) error {
	if f.hidesDotNames {
		return nil
	}
	var missing []string
	for p := range f.base {
		if !dotPath(p) {
			continue
		}
		if _, listed := f.remote[p]; listed {
			continue
		}
		if parent := parentOf(p); parent != "" {
			if r, ok := f.remote[parent]; !ok || !r.Dir {
				continue // below a missing directory: ask about that one
			}
		}
		missing = append(missing, p)
	}
	sort.Strings(missing)
	for _, p := range missing[:min(len(missing), maxHiddenProbes)] {
		there, err := f.rem.Exists(ctx, joinRemote(f.rroot, p), f.base[p].Dir)
		if err != nil {
			return err
		}
		if there {
			f.hidesDotNames = true
			f.log.Warn("the server's listings hide dot files (it has one it did not list); "+
				"synced dot files are kept as they are, and remote changes to them are not seen", "path", p)
			return nil
		}
	}
	return nil
}

// listingHides reports whether p, missing from the remote listing, may be
// there all the same: it was synced, and the folder's server hides dot
// names.
func (f *folder) listingHides(p string, hasBase bool) bool {
	return hasBase && f.hidesDotNames && dotPath(p)
}

// remoteAsSynced is the remote side a synced path had when it was synced.
func remoteAsSynced(b syncstate.Entry) plan.Side {
	return plan.Side{Exists: true, Dir: b.Dir, Size: b.RemoteSize, MTime: b.RemoteMTime, ID: b.RemoteID,
		Hash: b.Hash, HashKnown: !b.Dir}
}
