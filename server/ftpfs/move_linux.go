//go:build linux

package ftpfs

import (
	"path/filepath"
	"syscall"
	"unsafe"
)

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
	dir, err := f.home.Open(filepath.Dir(rel))
	if err != nil {
		return err
	}
	defer dir.Close()
	st, err := dir.Stat()
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return ErrNotDir
	}
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
