package agent

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/syncagent/syncagent/agent/ignore"
)

// errChanged reports a local file that changed while it was read; the path
// is looked at again later and never sent torn.
var errChanged = errors.New("file changed while it was read")

// localEntry is what a scan found at one local path.
type localEntry struct {
	Dir   bool
	Size  int64
	MTime time.Time
}

// scanResult is a local scan: the entries found, and the directories whose
// contents could not be read (nothing below them may be planned, since
// their children are unknown rather than gone).
type scanResult struct {
	Entries    map[string]localEntry
	Unreadable map[string]error
}

// scanLocal walks the folder under root (rel "" for all of it, or a
// subtree), skipping ignored paths, symlinks and special files.
func scanLocal(root, rel string, ig *ignore.Matcher) scanResult {
	res := scanResult{Entries: make(map[string]localEntry), Unreadable: make(map[string]error)}
	start := filepath.Join(root, filepath.FromSlash(rel))
	filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		r, rerr := filepath.Rel(root, p)
		if rerr != nil {
			return nil
		}
		r = filepath.ToSlash(r)
		if r == "." {
			if err != nil {
				res.Unreadable[""] = err
				return filepath.SkipAll
			}
			return nil
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			res.Unreadable[r] = err
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		isDir := d.IsDir()
		if ig.Match(r, isDir) {
			if isDir {
				return filepath.SkipDir
			}
			return nil
		}
		if !isDir && !d.Type().IsRegular() {
			return nil // symlinks, sockets, devices: not synced
		}
		fi, err := d.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				res.Unreadable[r] = err
			}
			return nil
		}
		res.Entries[r] = localEntry{Dir: isDir, Size: sizeOf(fi), MTime: fi.ModTime()}
		return nil
	})
	return res
}

// statLocal looks at one path as a scan would.
func statLocal(root, rel string) (localEntry, bool, error) {
	fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return localEntry{}, false, nil
	}
	if err != nil {
		return localEntry{}, false, err
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return localEntry{}, false, nil
	}
	return localEntry{Dir: fi.IsDir(), Size: sizeOf(fi), MTime: fi.ModTime()}, true, nil
}

func sizeOf(fi fs.FileInfo) int64 {
	if fi.IsDir() {
		return 0
	}
	return fi.Size()
}

// hashFile returns the SHA-256 of a local file, failing with errChanged
// when its size or mtime moved while it was read.
func hashFile(p string) ([32]byte, localEntry, error) {
	var sum [32]byte
	f, err := os.Open(p)
	if err != nil {
		return sum, localEntry{}, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return sum, localEntry{}, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, localEntry{}, fmt.Errorf("hash %s: %w", p, err)
	}
	after, err := os.Stat(p)
	if err != nil {
		return sum, localEntry{}, err
	}
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return sum, localEntry{}, errChanged
	}
	copy(sum[:], h.Sum(nil))
	return sum, localEntry{Size: before.Size(), MTime: before.ModTime()}, nil
}

// joinRemote joins a folder's remote root and a relative path.
func joinRemote(root, rel string) string {
	if rel == "" {
		return root
	}
	return path.Join(root, rel)
}

// under reports whether p is dir or inside it ("" contains everything).
func under(p, dir string) bool {
	return dir == "" || p == dir || strings.HasPrefix(p, dir+"/")
}
