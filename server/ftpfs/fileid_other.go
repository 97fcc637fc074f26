//go:build !linux && !darwin

package ftpfs

import "io/fs"

// identitySupported says whether fileIdentity works here.
const identitySupported = false

// fileIdentity reports false: without a portable inode and change time
// this platform caches no digests.
func fileIdentity(fs.FileInfo) (fileKey, fileState, bool) {
	return fileKey{}, fileState{}, false
}
