//go:build linux

package ftpfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/syncagent/syncagent/server/versions"
)

// parentDir is the open directory that holds a path, with its identity
// (for grouping fsyncs of the same directory).
type parentDir struct {
	*os.File
	key fileKey
}

// openFast opens the descriptors the Linux fast paths use: the home's
// directory, for openat2(2) lookups confined beneath it, and the temp
// directory, for renames out of it.
func (f *FS) openFast() error {
	var err error
	if f.homeFD, err = f.home.Open("."); err != nil {
		return err
	}
	if f.tmpFD, err = f.tmp.Open("."); err != nil {
		f.homeFD.Close()
		return err
	}
	return nil
}

// noOpenat2 is set once openat2(2) turned out to be unavailable (kernels
// before 5.6, or a seccomp filter), so later lookups skip straight to the
// os.Root walk.
var noOpenat2 atomic.Bool

// openBeneath opens rel relative to the home with openat2(2) and
// RESOLVE_BENEATH: one system call instead of os.Root's open per path
// component, and the kernel refuses any resolution that leaves the home
// (through "..", an absolute symbolic link, or a link climbing out), and
// magic links. It is stricter than os.Root (absolute links inside the home
// fail here), so callers fall back to os.Root on any error, and os.Root
// decides.
func (f *FS) openBeneath(rel string, flags int) (*os.File, error) {
	if noOpenat2.Load() {
		return nil, unix.ENOSYS
	}
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for range 3 {
		fd, err := unix.Openat2(int(f.homeFD.Fd()), rel, &how)
		if err == nil {
			return os.NewFile(uintptr(fd), rel), nil
		}
		if err == unix.ENOSYS || err == unix.EPERM {
			noOpenat2.Store(true)
		}
		if err != unix.EAGAIN && err != unix.EINTR { // EAGAIN: a rename raced the lookup
			return nil, err
		}
	}
	return nil, unix.EAGAIN
}

// openInHome opens rel for reading with flag, confined to the home: with
// openat2 where it can, else through the home Root.
func (f *FS) openInHome(rel string, flag int) (*os.File, error) {
	if file, err := f.openBeneath(rel, flag); err == nil {
		return file, nil
	}
	return f.home.OpenFile(rel, flag, 0)
}

// openParent opens the directory that holds rel, confined to the home:
// with openat2 where it can, else through the home Root, which follows
// symbolic links only while they stay inside the home.
func (f *FS) openParent(rel string) (*parentDir, error) {
	name := filepath.Dir(rel)
	dir, err := f.openBeneath(name, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		dir, err = f.home.Open(name)
	}
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	err = unix.Fstat(int(dir.Fd()), &st)
	if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		err = ErrNotDir
	}
	if err != nil {
		dir.Close()
		return nil, err
	}
	return &parentDir{File: dir, key: fileKey{dev: uint64(st.Dev), ino: uint64(st.Ino)}}, nil
}

// syncDir makes dir's entries durable, sharing the fsync with concurrent
// callers syncing the same directory.
func syncDir(dir *parentDir) error { return dirSyncs.sync(dir.key, dir.File) }

// entryMode returns the type bits (S_IFMT) of rel's entry in its parent
// dir, without following a symbolic link; 0 if there is no entry.
func entryMode(dir *parentDir, rel string) (uint32, error) {
	var st unix.Stat_t
	err := unix.Fstatat(int(dir.Fd()), filepath.Base(rel), &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.ENOENT {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return st.Mode & unix.S_IFMT, nil
}

// checkTarget checks that an upload may replace rel: its parent is a
// directory inside the home and rel is not a directory or an escaping link.
func (f *FS) checkTarget(rel string) error {
	if rel == "." {
		return ErrIsDir
	}
	dir, err := f.openParent(rel)
	if err != nil {
		return err
	}
	defer dir.Close()
	_, err = f.checkEntry(dir, rel)
	return err
}

// checkEntry is checkTarget's test of rel itself, in its open parent dir.
// It returns the entry's type bits (0: none).
func (f *FS) checkEntry(dir *parentDir, rel string) (uint32, error) {
	mode, err := entryMode(dir, rel)
	if err != nil {
		return 0, err
	}
	switch mode {
	case unix.S_IFDIR:
		return 0, ErrIsDir
	case unix.S_IFLNK: // rare: the careful path-based checks
		if err := f.checkLink(rel); err != nil {
			return 0, err
		}
		if fi, err := f.home.Stat(rel); err == nil && fi.IsDir() {
			return 0, ErrIsDir
		}
	}
	return mode, nil
}

// replaceWith moves the temporary file tmpName to rel (virtual path
// vpath), replacing any file there and keeping it as a version first. The
// parent is opened once; the checks, the version's hard link and the
// rename all work relative to it, and the final fsync of the directory is
// shared with concurrent commits into it (or, when durable is false, left
// to the caller).
func (f *FS) replaceWith(tmpName, rel, vpath string, durable bool, want *Expect) error {
	dir, err := f.openParent(rel)
	if err != nil {
		return err
	}
	defer dir.Close()
	defer f.lockPath(vpath)()
	if err := f.check(rel, want); err != nil {
		return err
	}
	mode, err := f.checkEntry(dir, rel)
	if err != nil {
		return err
	}
	var k *kept
	if mode == unix.S_IFREG && f.versions != nil {
		if k, err = f.keepRegular(dir, rel, vpath, false); err != nil {
			return err
		}
	}
	if err := f.renameInto(dir, tmpName, rel, false, durable); err != nil {
		k.undo()
		return err
	}
	k.commit()
	return nil
}

// moveInto moves the temporary file tmpName to rel inside the home.
//
// The temp directory and the home are different os.Roots, and os.Root has
// no cross-root rename, so this works on directory descriptors instead:
// the destination's parent is opened confined to the home (openParent),
// and the file is moved with renameat(2) (or, when noReplace, linkat(2)
// then unlinkat(2)) relative to the two descriptors. The final component
// is never followed: rename and link replace or refuse a symbolic link
// there, they do not write through it. So no link, and no race with a
// local user swapping directories for links, can put the file outside the
// home. With durable set, the new entry is made durable before it returns.
func (f *FS) moveInto(tmpName, rel string, noReplace, durable bool) error {
	dir, err := f.openParent(rel)
	if err != nil {
		return err
	}
	defer dir.Close()
	return f.renameInto(dir, tmpName, rel, noReplace, durable)
}

// renameInto is moveInto with the parent already open.
func (f *FS) renameInto(dir *parentDir, tmpName, rel string, noReplace, durable bool) error {
	tfd, dfd, base := int(f.tmpFD.Fd()), int(dir.Fd()), filepath.Base(rel)
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
	if !durable {
		return nil
	}
	// Make the new directory entry durable too, not only the data.
	return syncDir(dir)
}

// stash puts the file at rel into the version slot, with the same care as
// moveInto: relative to the parent's descriptor (dir, or opened here when
// nil) and the slot's directory descriptor, never following a link in the
// final component. With link set it tries linkat(2) first, leaving the
// file in place, and falls back to renameat(2) where the file system has no
// hard links (or refuses one); linked reports which happened.
func (f *FS) stash(dir *parentDir, rel string, slot *versions.Slot, link bool) (linked bool, err error) {
	if dir == nil {
		if dir, err = f.openParent(rel); err != nil {
			return false, err
		}
		defer dir.Close()
	}
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
	return false, syncDir(dir)
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
