//go:build linux

package ftpfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"

	"github.com/syncagent/syncagent/server/versions"
)

// openParent opens the directory that holds rel through the home Root,
// which follows symbolic links only while they stay inside the home.
func (f *FS) openParent(rel string) (*os.File, error) {
	dir, err := f.home.Open(filepath.Dir(rel))
	if err != nil {
		return nil, err
	}
	st, err := dir.Stat()
	if err == nil && !st.IsDir() {
		err = ErrNotDir
	}
	if err != nil {
		dir.Close()
		return nil, err
	}
	return dir, nil
}

// moveInto moves the temporary file tmpName to rel inside the home.
//
// The temp directory and the home are different os.Roots, and os.Root has
// no cross-root rename, so this works on directory descriptors instead:
// the destination's parent is opened through the home Root (which follows
// symbolic links only while they stay inside the home), and the file is
// moved with renameat(2) (or, when noReplace, linkat(2) then unlinkat(2))
// relative to the two descriptors. The final component is never followed:
// rename and link replace or refuse a symbolic link there, they do not
// write through it. So no link, and no race with a local user swapping
// directories for links, can put the file outside the home.
func (f *FS) moveInto(tmpName, rel string, noReplace bool) error {
	dir, err := f.openParent(rel)
	if err != nil {
		return err
	}
	defer dir.Close()
	tmp, err := f.tmp.Open(".")
	if err != nil {
		return err
	}
	defer tmp.Close()
	tfd, dfd, base := int(tmp.Fd()), int(dir.Fd()), filepath.Base(rel)
	if noReplace {
		if err := linkat(tfd, tmpName, dfd, base); err != nil {
			return err
		}
		if err := syscall.Unlinkat(tfd, tmpName); err != nil {
			return err
		}
	} else if err := syscall.Renameat(tfd, tmpName, dfd, base); err != nil {
		return err
	}
	// Make the new directory entry durable too, not only the data.
	return dir.Sync()
}

// stash puts the file at rel into the version slot, with the same care as
// moveInto: relative to the parent's descriptor (opened through the home
// Root) and the slot's directory descriptor, never following a link in the
// final component. With link set it tries linkat(2) first, leaving the
// file in place, and falls back to renameat(2) where the file system has no
// hard links (or refuses one); linked reports which happened.
func (f *FS) stash(rel string, slot *versions.Slot, link bool) (linked bool, err error) {
	dir, err := f.openParent(rel)
	if err != nil {
		return false, err
	}
	defer dir.Close()
	dfd, sfd, base := int(dir.Fd()), int(slot.Dir.Fd()), filepath.Base(rel)
	if link {
		err := linkat(dfd, base, sfd, slot.Name)
		if err == nil {
			return true, nil
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) {
			return false, err
		}
	}
	if err := syscall.Renameat(dfd, base, sfd, slot.Name); err != nil {
		return false, err
	}
	return false, dir.Sync()
}

// unstash moves a stashed file back from the slot to rel.
func (f *FS) unstash(rel string, slot *versions.Slot) error {
	dir, err := f.openParent(rel)
	if err != nil {
		return err
	}
	defer dir.Close()
	return syscall.Renameat(int(slot.Dir.Fd()), slot.Name, int(dir.Fd()), filepath.Base(rel))
}

// linkat is linkat(2) without flags (the syscall package does not export it).
func linkat(olddirfd int, oldpath string, newdirfd int, newpath string) error {
	oldp, err := syscall.BytePtrFromString(oldpath)
	if err != nil {
		return err
	}
	newp, err := syscall.BytePtrFromString(newpath)
	if err != nil {
		return err
	}
	_, _, errno := syscall.Syscall6(syscall.SYS_LINKAT, uintptr(olddirfd), uintptr(unsafe.Pointer(oldp)),
		uintptr(newdirfd), uintptr(unsafe.Pointer(newp)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
