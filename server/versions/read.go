package versions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// Version is one kept version of a file.
type Version struct {
	// Name is the version's name in its directory ("20261123T183000.123Z").
	Name string
	// Time is when the content stopped being current.
	Time time.Time
	// Size is the content's size in bytes.
	Size int64
	// ModTime is the content's own modification time.
	ModTime time.Time
}

// List returns the versions of the file vpath in home, oldest first. A file
// without versions gives an empty list, not an error.
func (s *Store) List(home, vpath string) ([]Version, error) {
	dirRel, err := storeRel(home, vpath)
	if err != nil {
		return nil, fmt.Errorf("list versions of %q: %w", vpath, err)
	}
	vs, entries, err := s.versionsIn(dirRel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list versions of %q: %w", vpath, err)
	}
	infos := make(map[string]fs.DirEntry, len(entries))
	for _, e := range entries {
		infos[e.Name()] = e
	}
	out := make([]Version, 0, len(vs))
	for _, v := range vs {
		fi, err := infos[v.name].Info()
		if err != nil {
			continue // pruned meanwhile
		}
		out = append(out, Version{Name: v.name, Time: v.at, Size: fi.Size(), ModTime: fi.ModTime()})
	}
	return out, nil
}

// Stat describes vpath in home's version tree without following links:
// "/" is the home's whole tree (a directory, even before any version
// exists), "/docs/a.txt" the version directory of that file, and
// "/docs/a.txt/20261123T183000.123Z" one version.
func (s *Store) Stat(home, vpath string) (fs.FileInfo, error) {
	rel, err := storeRel(home, vpath)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: vpath, Err: err}
	}
	fi, err := s.root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) && path.Clean(vpath) == "/" {
		return emptyDir{}, nil
	}
	if err != nil {
		return nil, err
	}
	return fi, nil
}

// ReadDir lists the directory vpath of home's version tree (see Stat),
// sorted by name, so versions come oldest first. Only directories and
// regular files are shown.
func (s *Store) ReadDir(home, vpath string) ([]fs.FileInfo, error) {
	rel, err := storeRel(home, vpath)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: vpath, Err: err}
	}
	d, err := s.root.Open(rel)
	if errors.Is(err, fs.ErrNotExist) && path.Clean(vpath) == "/" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	infos, err := d.Readdir(-1)
	if err != nil {
		return nil, err
	}
	infos = slices.DeleteFunc(infos, func(fi fs.FileInfo) bool {
		return !fi.IsDir() && !fi.Mode().IsRegular()
	})
	slices.SortFunc(infos, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return infos, nil
}

// Open opens the version vpath ("/docs/a.txt/20261123T183000.123Z") of home
// for reading. Anything but a regular file gives an error matching
// fs.ErrPermission (directories: fs.ErrInvalid). The caller closes it.
func (s *Store) Open(home, vpath string) (*os.File, error) {
	rel, err := storeRel(home, vpath)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: vpath, Err: err}
	}
	// Lstat first: the store only ever holds regular files, but never open
	// a FIFO someone left here, which would block.
	fi, err := s.root.Lstat(rel)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: vpath, Err: fs.ErrInvalid}
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: vpath, Err: fs.ErrPermission}
	}
	f, err := s.root.Open(rel)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: vpath, Err: fs.ErrPermission}
	}
	return f, nil
}

// emptyDir describes a home's version tree before it holds anything.
type emptyDir struct{}

func (emptyDir) Name() string       { return "." }
func (emptyDir) Size() int64        { return 0 }
func (emptyDir) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (emptyDir) ModTime() time.Time { return time.Unix(0, 0) }
func (emptyDir) IsDir() bool        { return true }
func (emptyDir) Sys() any           { return nil }
