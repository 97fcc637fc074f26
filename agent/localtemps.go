package agent

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/syncagent/syncagent/agent/remote"
)

// removeLocalTemps deletes the download temporaries a killed agent left in
// the local folder at root. Every such file is this agent's own (folders
// never overlap, and one agent holds the state database), so at start-up
// none can belong to a running download and no age threshold is needed.
// It reports how many it removed; an unreadable directory is skipped.
func removeLocalTemps(root string) (int, error) {
	n := 0
	var errs []error
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !remote.IsTemp(d.Name()) || !d.Type().IsRegular() {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			return nil
		}
		n++
		return nil
	})
	return n, errors.Join(errs...)
}
