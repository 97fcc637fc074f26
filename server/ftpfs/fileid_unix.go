//go:build linux || darwin

package ftpfs

import (
	"io/fs"
	"syscall"
)

// identitySupported says whether fileIdentity works here.
const identitySupported = true

// fileIdentity returns the inode and content state of fi, a FileInfo from
// a stat.
func fileIdentity(fi fs.FileInfo) (fileKey, fileState, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, fileState{}, false
	}
	mtime, ctime := statTimes(st)
	return fileKey{dev: uint64(st.Dev), ino: uint64(st.Ino)}, fileState{
		size:  st.Size,
		mtime: syscall.TimespecToNsec(mtime),
		ctime: syscall.TimespecToNsec(ctime),
	}, true
}
