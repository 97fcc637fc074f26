package server

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/syncagent/syncagent/server/ftpfs"
)

// replyError answers a failed file operation. It is the one place that maps
// storage errors to reply codes, so handlers never pick codes ad hoc.
func (s *session) replyError(op string, err error) {
	code, msg := errorReply(err)
	if code == codeLocalError {
		s.log.Error(op+" failed", "err", err)
	} else {
		s.log.Debug(op+" refused", "err", err)
	}
	s.reply(code, msg)
}

func errorReply(err error) (int, string) {
	switch {
	case errors.Is(err, ftpfs.ErrVersionsFull):
		return codeExceededStorage, "The old versions this account must keep fill its version storage (versions.max_bytes); nothing was changed."
	case isNoSpace(err):
		return codeExceededStorage, "Insufficient storage space; nothing was changed."
	case errors.Is(err, ftpfs.ErrTooDeep):
		return codeFileUnavailable, fmt.Sprintf("Directory too deep: at most %d levels below your home.", ftpfs.MaxDirDepth)
	case errors.Is(err, ftpfs.ErrInvalidPath):
		return codeBadFileName, "File name not allowed."
	case errors.Is(err, ftpfs.ErrReadOnly), errors.Is(err, errAppendOnly):
		return codeFileUnavailable, "Permission denied."
	case errors.Is(err, ftpfs.ErrPermission), errors.Is(err, fs.ErrPermission):
		return codeFileUnavailable, "Permission denied."
	case errors.Is(err, ftpfs.ErrNotExist), errors.Is(err, fs.ErrNotExist):
		return codeFileUnavailable, "No such file or directory."
	case errors.Is(err, ftpfs.ErrNotEmpty), errors.Is(err, syscall.ENOTEMPTY):
		return codeFileUnavailable, "Directory not empty."
	case errors.Is(err, ftpfs.ErrExist), errors.Is(err, fs.ErrExist):
		return codeFileUnavailable, "File exists."
	case errors.Is(err, ftpfs.ErrIsDir):
		return codeFileUnavailable, "Is a directory."
	case errors.Is(err, ftpfs.ErrPrecondition):
		return codeFileBusy, "Precondition failed: the path is not as expected; nothing was changed."
	case errors.Is(err, ftpfs.ErrNotDir):
		return codeFileUnavailable, "Not a directory."
	}
	return codeLocalError, "Local error in processing."
}

// errAppendOnly refuses destructive commands for append_only users.
var errAppendOnly = errors.New("append-only account")

func isNoSpace(err error) bool {
	return errors.Is(err, ftpfs.ErrNoSpace) || errors.Is(err, syscall.ENOSPC)
}
