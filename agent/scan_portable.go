package agent

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// readDirPortable reads one directory with os.ReadDir and DirEntry.Info:
// its entries as a scan keeps them, or the error that makes it unreadable.
// It is readDir on every system but Linux, and on Linux while
// portableScan is set (tests of this path).
func (s *scanner) readDirPortable(dir string, out []found, buf *dirBuf) []found {
	abs := filepath.Join(s.root, filepath.FromSlash(dir))
	f, err := os.Open(abs)
	var ents []fs.DirEntry
	if err == nil {
		ents, err = f.ReadDir(-1)
		f.Close()
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return out // removed since it was seen
		}
		return append(out, found{rel: dir, err: err})
	}
	for _, d := range ents {
		r := s.pathOf(buf, dir, []byte(d.Name()))
		isDir := d.IsDir()
		if s.ig.Match(r, isDir) {
			continue
		}
		if !isDir && !d.Type().IsRegular() {
			out = append(out, found{rel: r, skip: specialKind(d.Type())}) // symlinks, sockets, devices: not synced
			continue
		}
		fi, err := d.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				out = append(out, found{rel: r, err: err})
			}
			continue
		}
		out = append(out, found{rel: r, e: localEntry{Dir: isDir, Size: sizeOf(fi), MTime: fi.ModTime()}})
	}
	return out
}
