package ftpfs

import "time"

// SetModTime gives the upload's file the modification time mtime (its
// access time is left alone). Call it after the last write and before
// Commit, from the goroutine writing the upload; Commit's fsync makes it
// durable together with the data.
func (u *Upload) SetModTime(mtime time.Time) error {
	if err := u.fs.tmp.Chtimes(u.tmpName, time.Time{}, mtime); err != nil {
		return pathErr("chtimes", u.name, err)
	}
	return nil
}
