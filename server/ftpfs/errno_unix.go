//go:build unix

package ftpfs

import (
	"errors"
	"syscall"
)

// errnoSentinel maps the Unix errno values that have a sentinel.
func errnoSentinel(err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return nil
	}
	switch errno {
	case syscall.ENOSPC, syscall.EDQUOT:
		return ErrNoSpace
	case syscall.ENOTDIR:
		return ErrNotDir
	case syscall.EISDIR:
		return ErrIsDir
	case syscall.ENOTEMPTY:
		return ErrNotEmpty
	case syscall.ENAMETOOLONG, syscall.EINVAL:
		return ErrInvalidPath
	case syscall.EROFS:
		return ErrReadOnly
	case syscall.ELOOP:
		return ErrPermission
	}
	return nil
}
