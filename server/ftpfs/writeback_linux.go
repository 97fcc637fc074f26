//go:build linux

package ftpfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing n bytes of f from off to
// disk now, without waiting for them, so that the fsync at Commit finds
// little left to do. Errors are ignored: the fsync reports real ones.
func startWriteback(f *os.File, off, n int64) {
	unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
