package ftpfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// appendTo adds the content of the temporary file tmpName to the end of
// the file rel (virtual path vpath), in place, under the path's lock; when
// rel does not exist the temporary file becomes it. If the copy fails the
// file is truncated back to its old size, so a failed APPE leaves it as it
// was (a crash during the copy can leave part of the appended bytes). On
// success the temporary file is removed. With durable the appended data is
// made durable (fsync) before it returns.
func (f *FS) appendTo(tmpName, rel, vpath string, durable bool, want *Expect) error {
	if err := f.checkTarget(rel); err != nil {
		return err
	}
	defer f.lockPath(vpath)()
	if err := f.check(rel, want); err != nil {
		return err
	}
	for range 2 {
		dst, err := f.openInHome(rel, openAppendFlag)
		if errors.Is(err, fs.ErrNotExist) {
			err = f.moveInto(tmpName, rel, true, durable)
			if errors.Is(err, fs.ErrExist) {
				continue // created meanwhile: append to it
			}
			return err
		}
		if err != nil {
			return err
		}
		err = f.appendFile(dst, tmpName, durable)
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			f.tmp.Remove(tmpName)
		}
		return err
	}
	return ErrExist
}

// appendFile copies the temporary file tmpName to the end of dst, a
// regular file opened for appending.
func (f *FS) appendFile(dst *os.File, tmpName string, durable bool) error {
	st, err := dst.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return ErrPermission
	}
	src, err := f.tmp.Open(tmpName)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(dst, src)
	if err == nil && durable {
		err = dst.Sync()
	}
	if err != nil {
		dst.Truncate(st.Size()) // take back what was appended
		return err
	}
	return nil
}
