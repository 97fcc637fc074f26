package ftpfs

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// sentinel is one of the package's error values: a fixed message that also
// matches (errors.Is) the standard error it refines, if any.
type sentinel struct {
	msg  string
	base error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.base }

// Errors returned by FS and Upload methods, wrapped in an *fs.PathError that
// names the operation and the virtual path. Compare with errors.Is.
var (
	// ErrInvalidPath is a path argument the jail refuses: NUL, backslash,
	// control characters, a name too long for the file system, or an
	// operation that makes no sense on it (renaming a directory into itself).
	ErrInvalidPath error = &sentinel{"invalid path", fs.ErrInvalid}
	// ErrReadOnly is returned by every mutating call of a read-only FS.
	ErrReadOnly error = &sentinel{"read-only file system", fs.ErrPermission}
	// ErrNotExist means the file or directory (or a parent) does not exist.
	ErrNotExist error = &sentinel{"no such file or directory", fs.ErrNotExist}
	// ErrIsDir means a file operation was asked of a directory.
	ErrIsDir error = &sentinel{"is a directory", nil}
	// ErrNotDir means a directory operation was asked of a non-directory,
	// or a path component is not a directory.
	ErrNotDir error = &sentinel{"not a directory", nil}
	// ErrExist means the target already exists.
	ErrExist error = &sentinel{"file exists", fs.ErrExist}
	// ErrNotEmpty means RemoveDir was asked to remove a non-empty directory.
	// It matches ErrExist too.
	ErrNotEmpty error = &sentinel{"directory not empty", ErrExist}
	// ErrNoSpace means the disk (or the user's quota) is full.
	ErrNoSpace error = &sentinel{"no space left on device", syscall.ENOSPC}
	// ErrPermission means the operation is not allowed: it would leave the
	// home (through a symbolic link), touch the home itself, or the
	// operating system denied it.
	ErrPermission error = &sentinel{"permission denied", fs.ErrPermission}
	// ErrVersionsFull means an append-only user's overwrite would take the
	// versions its overwrites kept past versions.max_bytes; nothing was
	// changed. It matches ErrNoSpace too.
	ErrVersionsFull error = &sentinel{"version storage full", ErrNoSpace}
	// ErrTooDeep means Mkdir or Rename would put a directory more than
	// MaxDirDepth levels below the home.
	ErrTooDeep error = &sentinel{"directory too deep", nil}
	// ErrBadOffset means a restart offset lies beyond the end of the file.
	ErrBadOffset error = &sentinel{"restart offset beyond end of file", fs.ErrInvalid}
)

// errEscape is the text of os.Root's unexported "path escapes" error.
const errEscape = "path escapes from parent"

// pathErr builds the error an FS method returns: op and the virtual path,
// wrapping err mapped onto a sentinel. It never includes a real OS path.
func pathErr(op, vpath string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if _, ok := pe.Err.(*sentinel); ok && pe.Path == vpath {
			return err // already mapped by a helper
		}
	}
	return &fs.PathError{Op: op, Path: printable(vpath), Err: classify(err)}
}

// printable makes a refused path argument safe to show in a reply or a log
// line: control characters (CR, LF) are escaped and the length is capped.
func printable(vpath string) string {
	if checkPathBytes(vpath) == nil && len(vpath) <= MaxPathLen {
		return vpath
	}
	q := strconv.Quote(vpath)
	if len(q) > 256 {
		q = q[:256] + "..."
	}
	return q
}

// classify maps an error from os or os.Root onto a sentinel, or returns the
// innermost error (without any real path) when no sentinel fits.
func classify(err error) error {
	var s *sentinel
	if errors.As(err, &s) {
		return s
	}
	inner := err
	for {
		var next error
		switch e := inner.(type) {
		case *fs.PathError:
			next = e.Err
		case *os.LinkError:
			next = e.Err
		case *os.SyscallError:
			next = e.Err
		}
		if next == nil {
			break
		}
		inner = next
	}
	if inner.Error() == errEscape {
		return ErrPermission
	}
	if s := errnoSentinel(inner); s != nil {
		return s
	}
	switch {
	case errors.Is(inner, fs.ErrNotExist):
		return ErrNotExist
	case errors.Is(inner, fs.ErrExist):
		return ErrExist
	case errors.Is(inner, fs.ErrPermission):
		return ErrPermission
	}
	return inner
}

// MapError maps an error from the operating system onto the package's
// sentinels, dropping any real path from it: for example the error of a
// write to Upload.File on a full disk becomes ErrNoSpace. Errors without a
// sentinel come back as their innermost cause. FS and Upload methods
// already return mapped errors; MapError is for the protocol layer's own
// reads and writes of the files they hand out. It returns nil for nil.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	return classify(err)
}
