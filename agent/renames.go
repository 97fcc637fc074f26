package agent

import "sort"

// maxRenameProbes caps the local look-ups one scoped pass spends looking
// for the old name of newly appeared files.
const maxRenameProbes = 1000

// widenForRenames adds to a scoped pass the vanished old location of files
// that appeared under a new name. The watcher may report the two ends of a
// rename in separate batches; a pass that saw only the new name would
// upload everything again (and a later one delete the old copy) instead of
// renaming on the server. A synced file of the same size as a new one
// whose local path is gone is such a candidate; its highest vanished
// ancestor that was synced joins the scope, so a moved directory is seen
// whole. Adding a vanished path only brings its deletion forward: the
// watcher reports it anyway. Called from the folder's own goroutine, before
// execution starts, so reading base needs no lock.
func (f *folder) widenForRenames(scope []string, local scanResult) []string {
	sizes := make(map[int64]bool)
	for p, e := range local.Entries {
		if _, known := f.base[p]; !known && !e.Dir {
			sizes[e.Size] = true
		}
	}
	if len(sizes) == 0 {
		return scope
	}
	inScope := func(p string) bool {
		for _, s := range scope {
			if under(p, s) {
				return true
			}
		}
		return false
	}
	gone := func(p string) bool {
		_, ok, err := statLocal(f.root, p)
		return err == nil && !ok
	}
	added := make(map[string]bool)
	probes := 0
	for p, b := range f.base {
		if b.Dir || !sizes[b.Size] || inScope(p) {
			continue
		}
		if probes++; probes > maxRenameProbes {
			break
		}
		if !gone(p) {
			continue
		}
		top := p
		for q := parentOf(p); q != ""; q = parentOf(q) {
			if _, synced := f.base[q]; !synced || !gone(q) {
				break
			}
			top = q
		}
		added[top] = true
	}
	if len(added) == 0 {
		return scope
	}
	out := append([]string(nil), scope...)
	for p := range added {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
