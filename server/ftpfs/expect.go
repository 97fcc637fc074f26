package ftpfs

import (
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"slices"
	"sync"
)

// ErrPrecondition means a conditional change (RemoveIf, RenameIf, an
// Upload with SetExpect) found its path no longer as the caller expected
// it; nothing was changed.
var ErrPrecondition error = &sentinel{"precondition failed", nil}

// Expect is what a conditional change requires of one path at the moment
// it takes effect. The check and the change are one step for every writer
// going through this package: both run under the path's lock, which every
// replacement, delete and rename of the path takes.
type Expect struct {
	// Absent requires that nothing is at the path.
	Absent bool
	// Match, when set (and Absent is not), must accept the entry now at
	// the path (which must exist). It must not block.
	Match func(fs.FileInfo) bool
	// SHA256, when set, requires a regular file with this content. The
	// digest cache answers for files the server wrote; others are read.
	SHA256 *[sha256.Size]byte
}

// check reports ErrPrecondition unless rel (relative to the home) is as e
// requires; nil e always passes. Called with the path's lock held.
func (f *FS) check(rel string, e *Expect) error {
	if e == nil {
		return nil
	}
	fi, err := f.home.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if e.Absent {
			return nil
		}
		return ErrPrecondition
	case err != nil:
		return err
	case e.Absent, e.Match != nil && !e.Match(fi):
		return ErrPrecondition
	case e.SHA256 == nil:
		return nil
	case !fi.Mode().IsRegular():
		return ErrPrecondition
	}
	sum, err := f.sha256Of(rel)
	if err != nil {
		return err
	}
	if sum != *e.SHA256 {
		return ErrPrecondition
	}
	return nil
}

// sha256Of returns the SHA-256 of the regular file rel, from the digest
// cache when it holds the file's current state.
func (f *FS) sha256Of(rel string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	file, err := f.openRegular(rel)
	if err != nil {
		return sum, err
	}
	defer file.Close()
	if s, _, ok := f.digests.LookupSHA256(file); ok {
		return s, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, file); err != nil {
		return sum, err
	}
	h.Sum(sum[:0])
	return sum, nil
}

// SetExpect makes Commit (and CommitAll) put the upload in place only if
// its target is then as e requires, failing with ErrPrecondition (and
// discarding the upload) otherwise. Call it before Commit, from the
// goroutine that writes the upload. CreateUnique uploads never replace
// anything and ignore it.
func (u *Upload) SetExpect(e *Expect) {
	u.mu.Lock()
	u.expect = e
	u.mu.Unlock()
}

// RemoveIf is Remove, taking effect only if vpath is as want requires
// (ErrPrecondition otherwise); a nil want is Remove.
func (f *FS) RemoveIf(vpath string, want *Expect) error {
	return f.remove(vpath, want)
}

// RemoveDirIf is RemoveDir, taking effect only if vpath is as want
// requires (ErrPrecondition otherwise); a nil want is RemoveDir. The check
// concerns the directory itself, not what is in it.
func (f *FS) RemoveDirIf(vpath string, want *Expect) error {
	return f.removeDir(vpath, want)
}

// RenameIf is Rename, taking effect only if from is as wantFrom and to is
// as wantTo requires (ErrPrecondition otherwise); nil means no
// requirement on that side.
func (f *FS) RenameIf(from, to string, wantFrom, wantTo *Expect) error {
	return f.rename(from, to, wantFrom, wantTo)
}

// processLocks serialises the changes of one path when no version store
// (whose own locks serve the same purpose) is configured. Keyed by the
// home's OS path and the virtual path, it covers every FS of the process
// on the same home, as the sessions of one server are.
var processLocks pathLockTable

// pathLockTable is a set of per-key mutexes that exist while in use.
type pathLockTable struct {
	mu    sync.Mutex
	locks map[string]*refLock
}

type refLock struct {
	sync.Mutex
	refs int
}

// lock locks key and returns its unlock function.
func (t *pathLockTable) lock(key string) func() {
	t.mu.Lock()
	if t.locks == nil {
		t.locks = make(map[string]*refLock)
	}
	l := t.locks[key]
	if l == nil {
		l = &refLock{}
		t.locks[key] = l
	}
	l.refs++
	t.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		t.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(t.locks, key)
		}
		t.mu.Unlock()
	}
}

// lockPaths locks several virtual paths in a fixed order, so two callers
// locking the same pair cannot deadlock, and returns the unlock function.
func (f *FS) lockPaths(vpaths ...string) func() {
	vpaths = slices.Clone(vpaths)
	slices.Sort(vpaths)
	vpaths = slices.Compact(vpaths)
	unlocks := make([]func(), len(vpaths))
	for i, p := range vpaths {
		unlocks[i] = f.lockPath(p)
	}
	return func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
}
