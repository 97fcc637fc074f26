package agent

import (
	"context"
	"sort"
	"strings"

	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/remote"
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

// maxHiddenLookups bounds the unsynced dot paths one pass looks up by
// name on a server known to hide them (findHidden); the rest wait for the
// next pass.
const maxHiddenLookups = 64

// unlistedDotPaths returns, sorted, the dot paths of known (the sync
// history, or the local scan) that the listing lacks although it shows
// their parent directory (below a missing directory, that one is the
// path to ask about), with whether each is a directory.
func unlistedDotPaths[E any](f *folder, known map[string]E, isDir func(E) bool) ([]string, map[string]bool) {
	var out []string
	dirs := make(map[string]bool)
	for p, e := range known {
		if !dotPath(p) {
			continue
		}
		if _, listed := f.remote[p]; listed {
			continue
		}
		if parent := parentOf(p); parent != "" {
			if r, ok := f.remote[parent]; !ok || !r.Dir {
				continue
			}
		}
		out = append(out, p)
		dirs[p] = isDir(e)
	}
	sort.Strings(out)
	return out, dirs
}

// detectHiddenNames runs after a full listing (f.remote): unless the
// folder is already known to hide dot names, it asks the server about the
// dot paths, synced or only local, that the listing lacks (see
// unlistedDotPaths), at most maxHiddenProbes of them, and marks the folder
// if one is there. A failed question leaves the mark as it was; the next
// pass asks again.
func (f *folder) detectHiddenNames(ctx context.Context, local scanResult) error {
	if f.hidesDotNames {
		return nil
	}
	synced, syncedDirs := unlistedDotPaths(f, f.base, func(e syncstate.Entry) bool { return e.Dir })
	fresh, freshDirs := unlistedDotPaths(f, local.Entries, func(e scanned) bool { return e.Dir })
	probed := 0
	for _, c := range []struct {
		paths []string
		dirs  map[string]bool
	}{{synced, syncedDirs}, {fresh, freshDirs}} {
		for _, p := range c.paths {
			if probed == maxHiddenProbes {
				return nil
			}
			probed++
			there, err := f.rem.Exists(ctx, joinRemote(f.rroot, p), c.dirs[p])
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
	}
	return nil
}

// findHidden runs after detectHiddenNames on a folder whose server hides
// dot names: it looks up by name the local dot paths that were never
// synced and that the listing lacks (a new machine, a lost state file),
// and adds those the server has to the listing: a file with its size and
// time, a directory with its listed contents. Without it, each would be
// uploaded with the expectation that nothing is there, refused, and
// planned again on every pass.
func (f *folder) findHidden(ctx context.Context, local scanResult) error {
	if !f.hidesDotNames {
		return nil
	}
	paths, dirs := unlistedDotPaths(f, local.Entries, func(e scanned) bool { return e.Dir })
	for _, p := range paths[:min(len(paths), maxHiddenLookups)] {
		if _, synced := f.base[p]; synced {
			continue // listingHides takes it as synced
		}
		rp := joinRemote(f.rroot, p)
		if !dirs[p] {
			e, err := f.rem.Stat(ctx, rp)
			if remote.ReplyCode(err) == 550 {
				continue
			} else if err != nil {
				return err
			}
			f.remote[p] = factsOf(e)
			continue
		}
		there, err := f.rem.Exists(ctx, rp, true)
		if err != nil {
			return err
		}
		if !there {
			continue
		}
		inside, err := f.rem.Walk(ctx, rp, func(rel string, e remote.Entry) bool { return f.skipRemote(p+"/"+rel, e) })
		if err != nil {
			return err
		}
		f.remote[p] = remoteFacts{Dir: true}
		for rel, e := range inside {
			f.remote[p+"/"+rel] = factsOf(e)
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

// lookUpHidden is detectHiddenNames then findHidden.
func (f *folder) lookUpHidden(ctx context.Context, local scanResult) error {
	if err := f.detectHiddenNames(ctx, local); err != nil {
		return err
	}
	return f.findHidden(ctx, local)
}
