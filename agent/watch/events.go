package watch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

func (w *Watcher) handleItem(it item, now time.Time) {
	if it.err != nil {
		w.handleError(it.err, now)
		return
	}
	w.handleEvent(it.ev, now)
}

// handleEvent turns one fsnotify event into pending paths and keeps the set
// of watched directories in step with the tree.
func (w *Watcher) handleEvent(ev fsnotify.Event, now time.Time) {
	rel, ok := w.relPath(ev.Name)
	if !ok {
		w.log.Debug("watch: event outside root", "path", ev.Name, "op", ev.Op.String())
		return
	}
	if rel == "." {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			w.log.Warn("watch: root directory was removed or renamed; watching stops")
			w.rootGone = true
		}
		return
	}

	node := w.tree.get(rel)
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		// The path is gone. If it was a directory we watched, its watches
		// (and those below it) must go now: a renamed directory keeps its
		// inotify watch, which would go on reporting under the old name,
		// and the rename's Create(new) comes next, which adds fresh ones.
		if node != nil {
			w.dropTree(rel)
		}
		isDir := node != nil
		if !(isDir && node.ignored) && !w.ignored(rel, isDir) {
			w.deb.touch(rel, now)
		}
		if !ev.Has(fsnotify.Create) {
			return
		}
		node = nil
	}

	if ev.Has(fsnotify.Create) {
		w.created(rel, now)
		return
	}

	// Write or Chmod.
	if node != nil && node.ignored {
		return
	}
	if w.ignored(rel, node != nil) {
		return
	}
	w.deb.touch(rel, now)
}

// created handles a new path: a file is reported, a directory is watched and
// walked (reporting all it holds), closing the race with files created in it
// before its watch existed.
func (w *Watcher) created(rel string, now time.Time) {
	fi, err := os.Lstat(w.abs(rel))
	if err != nil || !fi.IsDir() {
		// A file, a symlink, or already gone (its Remove follows).
		if !w.ignored(rel, false) {
			w.deb.touch(rel, now)
		}
		return
	}
	w.addTree(rel, now, walkEvent)
}

// handleError handles an error from fsnotify: every one of them may mean
// lost events, so each ends in a rescan.
func (w *Watcher) handleError(err error, now time.Time) {
	switch {
	case errors.Is(err, fsnotify.ErrEventOverflow):
		w.log.Warn("watch: event queue overflowed, events were lost; full rescan needed")
		w.needResync = true
		w.requestRescan(now)
	case isWatchLimit(err):
		w.limitHit("", err, now)
	default:
		w.log.Warn("watch: file-system notifier failed; full rescan needed", "err", err)
		w.requestRescan(now)
	}
}

// addWatch adds one fsnotify watch, through the test hook if set.
func (w *Watcher) addWatch(abs string) error {
	if w.hooks.addWatch != nil {
		return w.hooks.addWatch(w.fsw.Add, abs)
	}
	return w.fsw.Add(abs)
}

// watchDir adds the watch for directory rel and records it. A directory that
// cannot be watched is logged; unless it vanished or is unreadable (a rescan
// would not see more), a rescan is requested.
func (w *Watcher) watchDir(rel string, now time.Time) error {
	err := w.addWatch(w.abs(rel))
	if err == nil {
		w.tree.add(rel, false)
		return nil
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		// Removed or replaced since we saw it; its events follow.
	case errors.Is(err, fs.ErrPermission):
		w.log.Warn("watch: cannot watch directory", "dir", rel, "err", err)
	case isWatchLimit(err):
		w.limitHit(rel, err, now)
	default:
		w.log.Warn("watch: cannot watch directory; full rescan needed", "dir", rel, "err", err)
		w.requestRescan(now)
	}
	return err
}

// isWatchLimit reports whether err means the system ran out of watches:
// inotify's per-user watch limit (ENOSPC) or file descriptors (EMFILE,
// ENFILE; kqueue needs one per watched file).
func isWatchLimit(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// limitHit degrades to rescans when a watch limit is reached: the directory
// stays unwatched, and the caller's rescans (this one and its periodic ones)
// are what notices changes there. The first occurrence is a warning that
// says how to fix it; later ones are debug lines, or a big tree would flood
// the log.
func (w *Watcher) limitHit(rel string, err error, now time.Time) {
	w.unwatched++
	if !w.limitLogged {
		w.limitLogged = true
		hint := "raise the open file limit (ulimit -n, LimitNOFILE)"
		if errors.Is(err, syscall.ENOSPC) {
			hint = "raise fs.inotify.max_user_watches (sysctl)"
		}
		w.log.Warn("watch: watch limit reached, directories below are not watched; falling back to rescans",
			"dir", rel, "err", err, "fix", hint)
	} else {
		w.log.Debug("watch: watch limit reached", "dir", rel, "err", err, "unwatched", w.unwatched)
	}
	if !w.resyncing {
		w.requestRescan(now)
	}
}

// relPath turns an fsnotify event name into a slash-separated path relative
// to the root; ok is false for names outside it.
func (w *Watcher) relPath(name string) (rel string, ok bool) {
	if name == w.root {
		return ".", true
	}
	if rest, found := strings.CutPrefix(name, w.root); found && len(rest) > 1 && os.IsPathSeparator(rest[0]) {
		return filepath.ToSlash(rest[1:]), true
	}
	r, err := filepath.Rel(w.root, name)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// abs is the OS path of rel.
func (w *Watcher) abs(rel string) string {
	if rel == "." {
		return w.root
	}
	return filepath.Join(w.root, filepath.FromSlash(rel))
}

func (w *Watcher) ignored(rel string, isDir bool) bool {
	return w.opt.Ignore != nil && w.opt.Ignore(rel, isDir)
}
