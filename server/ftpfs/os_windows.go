//go:build windows

package ftpfs

import (
	"os"
	"strings"
)

// openReadFlag opens files for reading.
const openReadFlag = os.O_RDONLY

// openAppendFlag opens a file to append to it (APPE).
const openAppendFlag = os.O_WRONLY | os.O_APPEND

// checkOSName refuses virtual paths that mean something special to Windows:
// ':' selects an alternate data stream (or a drive), and the wildcard and
// quoting characters are illegal in names. os.Root itself refuses reserved
// device names such as NUL and COM1.
func checkOSName(vpath string) error {
	if strings.ContainsAny(vpath, `:*?"<>|`) {
		return ErrInvalidPath
	}
	return nil
}
