//go:build !linux

package ftpfs

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// moveInto moves the temporary file tmpName to rel inside the home.
//
// The temp directory and the home are different os.Roots, and os.Root has
// no cross-root rename, so this renames by OS path after checking, through
// the home Root, that every directory on the way is a real directory (not a
// symbolic link or junction) inside the home. FTP users cannot create links,
// so only a local user who swaps a checked directory for a link between the
// check and the rename could redirect the file; Linux builds close that
// window with renameat(2) on directory descriptors.
func (f *FS) moveInto(tmpName, rel string, noReplace bool) error {
	dir := filepath.Dir(rel)
	if dir != "." {
		parts := strings.Split(dir, string(filepath.Separator))
		for i := range parts {
			st, err := f.home.Lstat(filepath.Join(parts[:i+1]...))
			if err != nil {
				return err
			}
			if st.Mode().Type() != fs.ModeDir {
				return ErrPermission
			}
		}
	}
	src := filepath.Join(f.tmpDir, tmpName)
	dst := filepath.Join(f.homeDir, rel)
	if !noReplace {
		return os.Rename(src, dst)
	}
	if err := os.Link(src, dst); err != nil {
		return err
	}
	return os.Remove(src)
}
