//go:build linux

package agent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"path/filepath"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// direntsSize is the buffer a worker reads raw directory entries into.
const direntsSize = 32 << 10

// Offsets in a struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2),
// d_type (1), then the NUL-terminated name.
const (
	direntReclen = 16
	direntType   = 18
	direntName   = 19
)

// portableScan makes readDir take the portable path other systems use,
// so tests on Linux can hold the two to the same results.
var portableScan atomic.Bool

// readDir reads one directory: its entries as a scan keeps them, or the
// error that makes it unreadable. It reads the directory with getdents
// into the worker's buffer and stats each entry relative to the
// directory's descriptor into a Stat_t on the stack: os.ReadDir and
// DirEntry.Info make three objects per entry, some 45 MB of garbage for a
// pass over 100,000 files, which drove the peak heap of the pass; here an
// entry costs its name, and a path only when the synced state does not
// already hold it.
func (s *scanner) readDir(dir string, out []found, buf *dirBuf) []found {
	if portableScan.Load() {
		return s.readDirPortable(dir, out, buf)
	}
	abs := filepath.Join(s.root, filepath.FromSlash(dir))
	fd, err := openDir(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return out // removed since it was seen
		}
		return append(out, found{rel: dir, err: &fs.PathError{Op: "open", Path: abs, Err: err}})
	}
	defer unix.Close(fd)
	if buf.dirents == nil {
		buf.dirents = make([]byte, direntsSize)
	}
	start := len(out)
	for {
		n, err := unix.ReadDirent(fd, buf.dirents)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			// Unreadable as a whole, as os.ReadDir would report it.
			return append(out[:start], found{rel: dir, err: &fs.PathError{Op: "readdirent", Path: abs, Err: err}})
		}
		if n <= 0 {
			return out
		}
		for b := buf.dirents[:n]; len(b) >= direntName; {
			reclen := int(binary.NativeEndian.Uint16(b[direntReclen:]))
			if reclen < direntName || reclen > len(b) {
				return append(out[:start], found{rel: dir, err: &fs.PathError{Op: "readdirent", Path: abs, Err: unix.EIO}})
			}
			typ, name := b[direntType], b[direntName:reclen]
			b = b[reclen:]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if len(name) == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			out = s.entry(fd, abs, dir, typ, name, out, buf)
		}
	}
}

// entry adds one directory entry to out, as the portable readDir would.
func (s *scanner) entry(fd int, abs, dir string, typ byte, name []byte, out []found, buf *dirBuf) []found {
	switch typ {
	case unix.DT_DIR, unix.DT_REG, unix.DT_UNKNOWN:
	default:
		return s.skip(out, buf, dir, name, direntKind(typ)) // symlinks, sockets, devices: not synced
	}
	var st unix.Stat_t
	err := unix.Fstatat(fd, string(name), &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, fs.ErrNotExist) {
		return out
	}
	if err == nil {
		// The type again: the entry may have been replaced since it was
		// listed, or the file system may not tell it in the listing.
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			typ = unix.DT_DIR
		case unix.S_IFREG:
			typ = unix.DT_REG
		default:
			return s.skip(out, buf, dir, name, statKind(st.Mode))
		}
	}
	isDir := typ == unix.DT_DIR
	r := s.pathOf(buf, dir, name)
	if s.ig.Match(r, isDir) {
		return out
	}
	if err != nil {
		return append(out, found{rel: r, err: &fs.PathError{Op: "lstat", Path: filepath.Join(abs, string(name)), Err: err}})
	}
	e := localEntry{Dir: isDir, MTime: time.Unix(st.Mtim.Unix())}
	if !isDir {
		e.Size = st.Size
	}
	return append(out, found{rel: r, e: e})
}

// openDir opens a directory for reading its entries, as os.Open does
// (following a symlink).
func openDir(abs string) (int, error) {
	for {
		fd, err := unix.Open(abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}

// direntKind names a directory entry type that is not synced.
func direntKind(typ byte) string {
	switch typ {
	case unix.DT_LNK:
		return kindSymlink
	case unix.DT_FIFO:
		return kindFIFO
	case unix.DT_SOCK:
		return kindSocket
	case unix.DT_CHR, unix.DT_BLK:
		return kindDevice
	}
	return kindOther
}

// statKind names a file type from stat(2) that is not synced.
func statKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return kindSymlink
	case unix.S_IFIFO:
		return kindFIFO
	case unix.S_IFSOCK:
		return kindSocket
	case unix.S_IFCHR, unix.S_IFBLK:
		return kindDevice
	}
	return kindOther
}
