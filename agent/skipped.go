package agent

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/syncagent/syncagent/agent/status"
)

// Kinds of entries a scan skips: they have no content to sync, and
// following a symbolic link could leave the folder or loop.
const (
	kindSymlink = "symlink"
	kindFIFO    = "fifo"
	kindSocket  = "socket"
	kindDevice  = "device"
	kindOther   = "special file"
)

// specialKind names what m is when it is neither a regular file nor a
// directory, else "".
func specialKind(m fs.FileMode) string {
	switch {
	case m.IsRegular(), m.IsDir():
		return ""
	case m&fs.ModeSymlink != 0:
		return kindSymlink
	case m&fs.ModeNamedPipe != 0:
		return kindFIFO
	case m&fs.ModeSocket != 0:
		return kindSocket
	case m&fs.ModeDevice != 0:
		return kindDevice
	}
	return kindOther
}

// specialAt returns the kind of the entry at rel when it is special (a
// symlink, FIFO, socket or device), else "".
func specialAt(root, rel string) string {
	fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return ""
	}
	return specialKind(fi.Mode())
}

// skippedAt reports whether p is, or is below, a skipped entry: such a
// path is left alone on both sides, so that a remote file never replaces
// a local symlink, nor the symlink's absence deletes the remote file.
func skippedAt(p string, skipped map[string]string) bool {
	for d := range skipped {
		if under(p, d) {
			return true
		}
	}
	return false
}

// noteSkipped records a full scan's skipped entries in the folder's
// status, logging each one the first time it is seen.
func (f *folder) noteSkipped(skipped map[string]string) {
	list := make([]status.Skipped, 0, len(skipped))
	for p, kind := range skipped {
		list = append(list, status.Skipped{Path: p, Kind: kind})
	}
	slices.SortFunc(list, func(a, b status.Skipped) int { return strings.Compare(a.Path, b.Path) })
	f.mu.Lock()
	prev := f.status.Skipped
	f.status.Skipped = list
	f.mu.Unlock()
	for _, s := range list {
		if !slices.Contains(prev, s) {
			f.log.Info("skipped: not a regular file or folder; never synced", "path", s.Path, "kind", s.Kind)
		}
	}
}
