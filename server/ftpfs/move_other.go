//go:build !linux

package ftpfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/syncagent/syncagent/server/versions"
)

// checkParents checks, through the home Root, that every directory on the
// way to rel is a real directory (not a symbolic link or junction) inside
// the home.
func (f *FS) checkParents(rel string) error {
	dir := filepath.Dir(rel)
	if dir == "." {
		return nil
	}
	parts := strings.Split(dir, string(filepath.Separator))
	for i := range parts {
		st, err := f.home.Lstat(filepath.Join(parts[:i+1]...))
		if err != nil {
			return err
		}
		if st.Mode().Type() != fs.ModeDir {
			return ErrPermission
		}
	}
	return nil
}

// parentDir stands for an open parent directory, which only the Linux
// paths use.
type parentDir struct{}

// openFast does nothing: the descriptor-based fast paths are Linux only.
func (f *FS) openFast() error { return nil }

// openInHome opens rel for reading with flag through the home Root.
func (f *FS) openInHome(rel string, flag int) (*os.File, error) {
	return f.home.OpenFile(rel, flag, 0)
}

// checkTarget checks that an upload may replace rel: its parent is a
// directory inside the home and rel is not a directory or an escaping link.
func (f *FS) checkTarget(rel string) error {
	if rel == "." {
		return ErrIsDir
	}
	if err := f.checkParent(rel); err != nil {
		return err
	}
	if err := f.checkLink(rel); err != nil {
		return err
	}
	if fi, err := f.home.Stat(rel); err == nil && fi.IsDir() {
		return ErrIsDir
	}
	return nil
}

// replaceWith moves the temporary file tmpName to rel (virtual path
// vpath), replacing any file there and keeping it as a version first.
// Directory entries are not fsynced on these systems, so durable changes
// nothing.
func (f *FS) replaceWith(tmpName, rel, vpath string, durable bool, want *Expect) error {
	if err := f.checkTarget(rel); err != nil {
		return err
	}
	defer f.lockPath(vpath)()
	if err := f.check(rel, want); err != nil {
		return err
	}
	k, err := f.keepOld(rel, vpath, false)
	if err != nil {
		return err
	}
	if err := f.moveInto(tmpName, rel, false, durable); err != nil {
		k.undo()
		return err
	}
	k.commit()
	return nil
}

// moveInto moves the temporary file tmpName to rel inside the home.
//
// The temp directory and the home are different os.Roots, and os.Root has
// no cross-root rename, so this renames by OS path after checkParents.
// FTP users cannot create links, so only a local user who swaps a checked
// directory for a link between the check and the rename could redirect the
// file; Linux builds close that window with renameat(2) on directory
// descriptors.
func (f *FS) moveInto(tmpName, rel string, noReplace, _ bool) error {
	if err := f.checkParents(rel); err != nil {
		return err
	}
	src := filepath.Join(f.tmpDir, tmpName)
	dst := filepath.Join(f.homeDir, rel)
	if !noReplace {
		return os.Rename(src, dst)
	}
	if err := os.Link(src, dst); err != nil {
		return err
	}
	return os.Remove(src)
}

// stash puts the file at rel into the version slot by OS path, after
// checkParents (the same window as moveInto applies). With link set it
// tries a hard link first, leaving the file in place, and falls back to a
// rename; linked reports which happened.
func (f *FS) stash(_ *parentDir, rel string, slot *versions.Slot, link bool) (linked bool, err error) {
	if err := f.checkParents(rel); err != nil {
		return false, err
	}
	src := filepath.Join(f.homeDir, rel)
	if link {
		err := os.Link(src, slot.Path)
		if err == nil {
			return true, nil
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) {
			return false, err
		}
	}
	return false, os.Rename(src, slot.Path)
}

// unstash moves a stashed file back from the slot to rel.
func (f *FS) unstash(rel string, slot *versions.Slot) error {
	if err := f.checkParents(rel); err != nil {
		return err
	}
	return os.Rename(slot.Path, filepath.Join(f.homeDir, rel))
}
