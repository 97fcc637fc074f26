package watch

import (
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"time"
)

// dirNode is a directory the watcher knows: watched, or ignored (and so not
// watched, and with nothing known below it).
type dirNode struct {
	ignored  bool
	children map[string]struct{} // base names of known subdirectories
}

// dirTree is the set of known directories keyed by slash-separated path
// relative to the root ("." for the root). The child links make dropping a
// subtree cost its size, not the size of the whole tree.
type dirTree struct {
	nodes map[string]*dirNode
}

func newDirTree() *dirTree {
	return &dirTree{nodes: make(map[string]*dirNode)}
}

func (t *dirTree) get(rel string) *dirNode { return t.nodes[rel] }

func (t *dirTree) watched(rel string) bool {
	n := t.nodes[rel]
	return n != nil && !n.ignored
}

func (t *dirTree) add(rel string, ignored bool) {
	if n := t.nodes[rel]; n != nil {
		n.ignored = ignored
		return
	}
	t.nodes[rel] = &dirNode{ignored: ignored}
	if rel == "." {
		return
	}
	if p := t.nodes[path.Dir(rel)]; p != nil {
		if p.children == nil {
			p.children = make(map[string]struct{})
		}
		p.children[path.Base(rel)] = struct{}{}
	}
}

// remove forgets rel and everything below it, calling fn for each node
// (deepest last is not guaranteed).
func (t *dirTree) remove(rel string, fn func(rel string, n *dirNode)) {
	n := t.nodes[rel]
	if n == nil {
		return
	}
	if rel != "." {
		if p := t.nodes[path.Dir(rel)]; p != nil {
			delete(p.children, path.Base(rel))
		}
	}
	stack := []string{rel}
	for len(stack) > 0 {
		r := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := t.nodes[r]
		if n == nil {
			continue
		}
		delete(t.nodes, r)
		for c := range n.children {
			stack = append(stack, path.Join(r, c))
		}
		fn(r, n)
	}
}

// dropTree forgets directory rel and its subtree and removes their watches.
// Errors are expected and ignored: the kernel drops the watch of a deleted
// directory by itself, and fsnotify drops the watch of a directory that
// moved.
func (w *Watcher) dropTree(rel string) {
	w.tree.remove(rel, func(r string, n *dirNode) {
		if n.ignored {
			return
		}
		if err := w.fsw.Remove(w.abs(r)); err != nil {
			w.log.Debug("watch: remove watch", "dir", r, "err", err)
		}
	})
}

// walkMode says how addTree treats what it finds.
type walkMode int

const (
	walkInitial walkMode = iota // watch everything, report nothing (the caller scans)
	walkEvent                   // a directory appeared: watch and report all of it
)

// addTree watches directory start and every directory below it. Each watch
// is added before its directory is read, so an entry created concurrently is
// either seen by the walk or reported by the new watch. In walkEvent mode,
// every path found is reported, and a directory already watched is not
// walked again (its contents were reported when it was added).
func (w *Watcher) addTree(start string, now time.Time, mode walkMode) {
	startAbs := w.abs(start)
	walk := func(p string, d fs.DirEntry, err error) error {
		rel := start
		if p != startAbs {
			r, ok := w.relPath(p)
			if !ok {
				return nil // cannot happen: p is below startAbs
			}
			rel = r
		}
		if err != nil {
			// Vanished since listed, or unreadable. A directory whose read
			// failed is called a second time with the error; its watch is
			// in place, so its later events still arrive.
			if !errors.Is(err, fs.ErrNotExist) {
				w.log.Warn("watch: cannot read", "path", rel, "err", err)
			}
			return nil
		}
		if !d.IsDir() {
			if mode == walkEvent && !w.ignored(rel, false) {
				w.deb.touch(rel, now)
			}
			return nil
		}
		if rel != "." && w.ignored(rel, true) {
			w.tree.add(rel, true)
			return filepath.SkipDir
		}
		if w.tree.watched(rel) {
			if mode == walkEvent {
				w.deb.touch(rel, now)
				return filepath.SkipDir
			}
			return nil // the root, watched by New
		}
		if err := w.watchDir(rel, now); err != nil {
			return filepath.SkipDir
		}
		if mode == walkEvent {
			w.deb.touch(rel, now)
		}
		return nil
	}
	if err := filepath.WalkDir(startAbs, walk); err != nil {
		w.log.Debug("watch: walk", "dir", start, "err", err)
	}
}

// resync rebuilds the watch set from the tree on disk after events were
// lost: directories created meanwhile get watches, and those gone are
// forgotten. Stale watches go before new ones are added: a directory renamed
// while events were lost keeps its inotify watch under the old name, and
// adding the new name first would find that watch and keep the old name.
// A rescan is sent right after, so nothing is reported here, and anything
// created between the walk and the adds is seen by that rescan.
func (w *Watcher) resync(now time.Time) {
	found := newDirTree()
	var order []string
	found.add(".", false)
	walk := func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == w.root {
			return nil
		}
		rel, ok := w.relPath(p)
		if !ok {
			return nil
		}
		if w.ignored(rel, true) {
			found.add(rel, true)
			return filepath.SkipDir
		}
		found.add(rel, false)
		order = append(order, rel)
		return nil
	}
	if err := filepath.WalkDir(w.root, walk); err != nil {
		w.log.Debug("watch: walk", "dir", ".", "err", err)
	}
	for rel, n := range w.tree.nodes {
		if !n.ignored && !found.watched(rel) {
			if err := w.fsw.Remove(w.abs(rel)); err != nil {
				w.log.Debug("watch: remove watch", "dir", rel, "err", err)
			}
		}
	}

	w.tree = newDirTree()
	w.resyncing = true
	defer func() { w.resyncing = false }()
	if err := w.watchDir(".", now); err != nil {
		return
	}
	for _, rel := range order {
		if w.tree.watched(path.Dir(rel)) {
			_ = w.watchDir(rel, now) // failures are logged there
		}
	}
	for rel, n := range found.nodes {
		if n.ignored {
			w.tree.add(rel, true)
		}
	}
}
