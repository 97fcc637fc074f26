//go:build linux

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
	return fileKey{dev: uint64(st.Dev), ino: uint64(st.Ino)}, fileState{
		size:  st.Size,
		mtime: syscall.TimespecToNsec(st.Mtim),
		ctime: syscall.TimespecToNsec(st.Ctim),
	}, true
}
