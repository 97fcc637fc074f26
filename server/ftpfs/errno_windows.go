//go:build windows

package ftpfs

import (
	"errors"
	"syscall"
)

// Windows system error codes that have a sentinel (winerror.h).
const (
	errorHandleDiskFull syscall.Errno = 39
	errorDirNotEmpty    syscall.Errno = 145
	errorDirectory      syscall.Errno = 267 // "the directory name is invalid"
	errorDiskFull       syscall.Errno = 112
	errorDiskQuota      syscall.Errno = 1295
	errorFilenameExced  syscall.Errno = 206
	errorInvalidName    syscall.Errno = 123
)

// errnoSentinel maps the Windows error codes that have a sentinel.
func errnoSentinel(err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return nil
	}
	switch errno {
	case errorDiskFull, errorHandleDiskFull, errorDiskQuota:
		return ErrNoSpace
	case errorDirNotEmpty:
		return ErrNotEmpty
	case errorDirectory:
		return ErrNotDir
	case errorFilenameExced, errorInvalidName:
		return ErrInvalidPath
	}
	return nil
}
