package ftpfs

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/syncagent/syncagent/server/versions"
)

// maxTreeDepth bounds RemoveDir's walk of a tree; MaxPathLen already keeps
// real trees below it.
const maxTreeDepth = MaxPathLen / 2

// kept is a file's old content preserved in the version store just before
// an operation replaces or removes it. The operation then either succeeds
// (commit) or fails (undo, which puts things back as they were).
type kept struct {
	f      *FS
	slot   *versions.Slot
	rel    string
	linked bool // a hard link: the file is still at rel, and the name never vanished
}

// keepOld preserves the regular file at rel (virtual path vpath) as a
// version. With move set (a delete) the file leaves the home for the store.
// Otherwise (a replacement) it is hard-linked into the store, so that the
// rename that replaces it keeps the name valid throughout: a reader sees the
// old content or the new, never nothing. Where hard links are not supported
// it is moved instead, and for the short time until the replacement lands
// the name does not exist. keepOld returns nil and no error when there is
// nothing to keep: versions disabled, no file, or not a regular file
// (symbolic links and directories have no content to keep).
func (f *FS) keepOld(rel, vpath string, move bool) (*kept, error) {
	if f.versions == nil {
		return nil, nil
	}
	fi, err := f.home.Lstat(rel)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, nil
	}
	return f.keepRegular(nil, rel, vpath, move)
}

// keepRegular is keepOld for rel known to be a regular file; dir, when not
// nil, is rel's parent directory, already open.
func (f *FS) keepRegular(dir *parentDir, rel, vpath string, move bool) (*kept, error) {
	if isAgentTemp(vpath) {
		return nil, nil
	}
	if f.protect && f.versions.MaxBytes() > 0 {
		fi, err := f.home.Lstat(rel)
		if err == nil {
			err = f.versions.Admit(f.homeName, fi.Size())
		}
		if errors.Is(err, versions.ErrFull) {
			return nil, ErrVersionsFull
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	slot, err := f.versions.Reserve(f.homeName, vpath, time.Now())
	if err != nil {
		return nil, err
	}
	linked, err := f.stash(dir, rel, slot, !move)
	if err != nil {
		slot.Cancel()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // gone meanwhile: nothing to keep
		}
		return nil, err
	}
	return &kept{f: f, slot: slot, rel: rel, linked: linked}, nil
}

// agentTempPrefix starts the names of syncagent's upload temporaries. One
// left behind by an interrupted upload is removed or replaced by the agent
// later; its content is a partial copy of a file the agent still has, so
// it never becomes a version (it would only take the store's room).
const agentTempPrefix = ".syncagent-"

// isAgentTemp reports whether vpath names a syncagent upload temporary.
func isAgentTemp(vpath string) bool {
	return strings.HasPrefix(path.Base(vpath), agentTempPrefix)
}

// commit finishes a kept version once its operation succeeded. Errors here
// (syncing the store's directory, trimming older versions) do not undo the
// operation: the version is in place, and the pruner retries the trimming.
func (k *kept) commit() {
	if k != nil {
		if k.f.protect {
			k.slot.Protect()
		}
		k.slot.Commit()
	}
}

// undo puts the old file back after its operation failed. A moved file
// that cannot be moved back stays in the store as a version rather than
// being lost.
func (k *kept) undo() {
	if k == nil {
		return
	}
	if !k.linked {
		if err := k.f.unstash(k.rel, k.slot); err != nil {
			k.slot.Commit()
			return
		}
	}
	k.slot.Cancel()
}

// removeFile deletes the file at rel, keeping it as a version when it is a
// regular file and versions are enabled.
func (f *FS) removeFile(rel, vpath string, want *Expect) error {
	defer f.lockPath(vpath)()
	if err := f.check(rel, want); err != nil {
		return err
	}
	k, err := f.keepOld(rel, vpath, true)
	if err != nil {
		return err
	}
	if k != nil {
		k.commit()
		return nil
	}
	return f.home.Remove(rel)
}

// removeTree removes the directory rel (virtual path vpath) and everything
// below it, keeping every regular file as a version first. It stops at the
// first error, or when ctx ends, leaving the rest of the tree in place;
// whatever it removed by then is in the version store.
func (f *FS) removeTree(ctx context.Context, rel, vpath string, depth int) error {
	if depth > maxTreeDepth {
		return ErrInvalidPath
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := f.home.Open(rel)
	if err != nil {
		return err
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, e := range entries {
		crel, cvpath := filepath.Join(rel, e.Name()), path.Join(vpath, e.Name())
		if e.IsDir() { // from the directory entry: a link to a directory is not followed
			err = f.removeTree(ctx, crel, cvpath, depth+1)
		} else if err = ctx.Err(); err == nil {
			err = f.removeFile(crel, cvpath, nil)
		}
		if err != nil {
			return err
		}
	}
	return f.home.Remove(rel)
}

// lockPath serialises replacing, deleting or renaming vpath with every
// other session: through the version store's locks where there is one,
// else through the process's (so conditional changes see no other write
// between their check and their change).
func (f *FS) lockPath(vpath string) func() {
	if f.versions == nil {
		return processLocks.lock(f.homeDir + "\x00" + vpath)
	}
	return f.versions.LockPath(f.homeName, vpath)
}
