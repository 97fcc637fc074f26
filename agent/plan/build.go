package plan

import (
	"sort"
	"strings"
)

// Plan is the ordered list of actions for one pass over a folder. A Plan is
// a plain value; it is not modified after Build.
type Plan struct {
	// Actions in execution order: deletes children first, then directories
	// and conflicts parents first, renames, deletes that had to wait for a
	// rename out of them, transfers, and base updates. Nothing is left out.
	Actions []Action
	counts  map[Kind]int
}

// Count returns how many actions of kind k the plan holds.
func (p Plan) Count(k Kind) int { return p.counts[k] }

// Len returns the number of actions.
func (p Plan) Len() int { return len(p.Actions) }

// entry is one path's decision while a plan is built.
type entry struct {
	item Item
	act  Action
	// moved: an ancestor's Conflict moves the local side away, so the local
	// state of item no longer matters.
	moved bool
}

// Build detects renames, decides every other item, makes the decisions
// agree along each directory tree (TwoWay), and orders the actions so they
// can be executed one after the other. items must hold each path once and
// should include every directory. Build is a pure function.
func Build(mode Mode, items []Item) Plan {
	renames, rest := DetectRenames(mode, items)
	entries := make(map[string]*entry, len(rest))
	paths := make([]string, 0, len(rest))
	for _, it := range rest {
		entries[it.Path] = &entry{item: it, act: Decide(mode, it)}
		paths = append(paths, it.Path)
	}
	sort.Strings(paths)
	if mode == TwoWay {
		keepParents(entries, paths)
		followConflicts(entries, paths)
	}
	return order(renames, entries, paths)
}

// endShape is what path will be on both sides once e's action ran.
func endShape(e *entry) shape {
	switch e.act.Kind {
	case Upload, Download, Compare:
		return file
	case MkdirLocal, MkdirRemote:
		return dir
	case DeleteLocal, DeleteRemote, Forget:
		return absent
	case Conflict:
		return sideShape(e.item.Remote)
	}
	if e.moved {
		return sideShape(e.item.Remote)
	}
	return sideShape(e.item.Local)
}

// keepParents makes every directory that will still hold something stay a
// directory. Per path, Decide lets an edit win over a delete; here the same
// rule climbs the tree: a deleted directory holding a kept edit is
// re-created, and a directory replaced by a file on one side while content
// inside changed on the other becomes a Conflict (no side is lost).
func keepParents(entries map[string]*entry, paths []string) {
	for _, p := range paths {
		if endShape(entries[p]) == absent {
			continue
		}
		for a := parentPath(p); a != ""; a = parentPath(a) {
			ae, ok := entries[a]
			if !ok {
				continue
			}
			switch endShape(ae) {
			case absent:
				l, r := sideShape(ae.item.Local), sideShape(ae.item.Remote)
				switch {
				case l == dir && r != dir:
					ae.act = Action{Kind: MkdirRemote, Path: a, Reason: "deleted remotely, but changed content inside"}
				case r == dir && l != dir:
					ae.act = Action{Kind: MkdirLocal, Path: a, Reason: "deleted locally, but changed content inside"}
				}
			case file:
				if ae.act.Kind == Upload || ae.act.Kind == Download {
					ae.act = Action{Kind: Conflict, Path: a, Reason: "replaced by a file on one side, content inside changed on the other"}
				}
			}
		}
	}
}

// followConflicts rewrites everything below a Conflict: the local side is
// moved away with its ancestor, so each path takes what the remote has.
func followConflicts(entries map[string]*entry, paths []string) {
	for i, p := range paths {
		if entries[p].act.Kind != Conflict {
			continue
		}
		prefix := p + "/"
		for _, q := range paths[i+1:] {
			if !strings.HasPrefix(q, prefix) {
				break
			}
			e := entries[q]
			e.moved = true
			reason := "inside conflict " + p
			switch sideShape(e.item.Remote) {
			case file:
				e.act = Action{Kind: Download, Path: q, Reason: reason}
			case dir:
				e.act = Action{Kind: MkdirLocal, Path: q, Reason: reason}
			default:
				if e.item.Base.Exists {
					e.act = Action{Kind: Forget, Path: q, Reason: reason}
				} else {
					e.act = Action{Kind: Nothing, Path: q, Reason: reason}
				}
			}
		}
	}
}

// phase numbers order a plan; see Plan.Actions.
const (
	phaseDelete = iota
	phaseCreate
	phaseRename
	phaseLateDelete
	phaseTransfer
	phaseRecord
	numPhases
)

// order expands replacements into delete-then-create and sorts everything
// into execution phases.
func order(renames []Action, entries map[string]*entry, paths []string) Plan {
	var phases [numPhases][]Action
	phases[phaseRename] = append(phases[phaseRename], renames...)
	sources := make([]string, 0, len(renames))
	for _, r := range renames {
		sources = append(sources, r.Path)
	}
	deletePhase := func(p string) int {
		for _, s := range sources {
			if strings.HasPrefix(s, p+"/") {
				return phaseLateDelete
			}
		}
		return phaseDelete
	}
	add := func(ph int, a Action) { phases[ph] = append(phases[ph], a) }

	for _, p := range paths {
		e := entries[p]
		l, r := sideShape(e.item.Local), sideShape(e.item.Remote)
		if e.moved {
			l = absent
		}
		switch k := e.act.Kind; k {
		case Nothing:
		case DeleteLocal, DeleteRemote:
			add(deletePhase(p), e.act)
		case MkdirLocal, MkdirRemote, Conflict:
			// A file standing where a directory goes is removed first.
			if k == MkdirLocal && l == file {
				add(phaseDelete, Action{Kind: DeleteLocal, Path: p, Reason: "replaced by a directory"})
			}
			if k == MkdirRemote && r == file {
				add(phaseDelete, Action{Kind: DeleteRemote, Path: p, Reason: "replaced by a directory"})
			}
			add(phaseCreate, e.act)
		case Upload, Download, Compare:
			// A directory standing where a file goes is removed (after its
			// children, which have their own deletes).
			if k == Download && l == dir {
				add(deletePhase(p), Action{Kind: DeleteLocal, Path: p, Reason: "replaced by a file"})
			}
			if k == Upload && r == dir {
				add(deletePhase(p), Action{Kind: DeleteRemote, Path: p, Reason: "replaced by a file"})
			}
			add(phaseTransfer, e.act)
		default:
			add(phaseRecord, e.act)
		}
	}

	byPath := func(as []Action, desc bool) {
		sort.SliceStable(as, func(i, j int) bool {
			if desc {
				return as[i].Path > as[j].Path
			}
			return as[i].Path < as[j].Path
		})
	}
	byPath(phases[phaseDelete], true)
	byPath(phases[phaseLateDelete], true)
	byPath(phases[phaseCreate], false)
	byPath(phases[phaseRename], false)
	byPath(phases[phaseTransfer], false)
	byPath(phases[phaseRecord], false)

	p := Plan{counts: make(map[Kind]int)}
	for _, ph := range phases {
		for _, a := range ph {
			p.Actions = append(p.Actions, a)
			p.counts[a.Kind]++
		}
	}
	return p
}
