//go:build !windows

package ftpfs

import (
	"os"
	"syscall"
)

// openReadFlag opens files for reading without blocking on a FIFO a local
// user may have left in a home; for regular files O_NONBLOCK has no effect.
const openReadFlag = os.O_RDONLY | syscall.O_NONBLOCK

// openAppendFlag opens a file to append to it (APPE), likewise without
// blocking on a FIFO.
const openAppendFlag = os.O_WRONLY | os.O_APPEND | syscall.O_NONBLOCK

// checkOSName refuses virtual paths the host file system cannot hold safely.
// On Unix every byte Resolve lets through is a legal name byte.
func checkOSName(string) error { return nil }
