package versions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// NameLayout is the time layout of version names: UTC with milliseconds,
// so that names sort by time.
const NameLayout = "20060102T150405.000Z"

// maxSameTime bounds the search for a free name when many versions of one
// file land in the same millisecond: each try moves one millisecond later.
const maxSameTime = 1000

// ErrInvalidPath is returned for a home or path the store cannot hold: not
// local, the root of a home (which is never a file), or empty.
var ErrInvalidPath = errors.New("invalid version path")

// Options configures a Store.
type Options struct {
	// Keep is how many versions of each file are kept; the oldest beyond
	// it are removed when a new one arrives. It must be at least 1: a
	// disabled store is no store at all.
	Keep int
	// MaxAge is how long a version is kept; Prune removes older ones.
	// Zero keeps versions regardless of age.
	MaxAge time.Duration
	// MaxBytes bounds the bytes the versions of one home take (see
	// bytes.go): past it, the home's oldest unprotected versions are
	// removed. Zero sets no bound.
	MaxBytes int64
}

// Store is the version store under one directory. All methods are safe for
// concurrent use; it serves every session of a server.
type Store struct {
	paths  pathLocks // see LockPath
	keep   int
	maxAge time.Duration
	dir    string // absolute OS path of the store
	root   *os.Root

	maxBytes int64
	usage    homeUsages // bytes per home, for MaxBytes

	mu    sync.Mutex
	names map[string]struct{} // reserved, not yet released version names (store-relative)
	busy  map[string]int      // directories with open slots, which Prune must not remove
}

// Open opens (creating it with mode 0700 if missing) the store in dir, for
// example ROOT/.syncserver/versions.
func Open(dir string, opt Options) (*Store, error) {
	if opt.Keep < 1 {
		return nil, fmt.Errorf("open version store: keep must be at least 1, got %d", opt.Keep)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open version store: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create version store: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open version store: %w", err)
	}
	return &Store{
		keep:     opt.Keep,
		maxAge:   opt.MaxAge,
		maxBytes: opt.MaxBytes,
		dir:      abs,
		root:     root,
		names:    make(map[string]struct{}),
		busy:     make(map[string]int),
	}, nil
}

// Close releases the store's directory handle. Slots still open stay valid
// until they are released; other methods must not be called after Close.
func (s *Store) Close() error { return s.root.Close() }

// Keep returns how many versions of each file the store keeps.
func (s *Store) Keep() int { return s.keep }

// MaxAge returns how long the store keeps a version (0: forever).
func (s *Store) MaxAge() time.Duration { return s.maxAge }

// Dir returns the absolute OS path of the store.
func (s *Store) Dir() string { return s.dir }

// storeRel maps a home ("alice", "teams/ops") and a virtual path ("/",
// "/docs/a.txt") to the store-relative OS path of the path's version
// directory.
func storeRel(home, vpath string) (string, error) {
	h := filepath.Clean(home)
	if h == "." || !filepath.IsLocal(h) || !strings.HasPrefix(vpath, "/") {
		return "", ErrInvalidPath
	}
	v := path.Clean(vpath)
	if v == "/" {
		return h, nil
	}
	return filepath.Join(h, filepath.FromSlash(v[1:])), nil
}

// Slot is a reserved, free name in the version directory of one file, where
// the caller places the file's old content (by rename or hard link) and
// then calls Commit, or Cancel if it could not. A Slot is used by one
// goroutine.
type Slot struct {
	// Dir is the open version directory. Do not close it.
	Dir *os.File
	// Name is the free name reserved in Dir.
	Name string
	// Path is the absolute OS path of Dir/Name, for platforms that cannot
	// rename relative to directory descriptors.
	Path string

	store  *Store
	home   string // the home, cleaned: the key of its byte usage
	dirRel string
	rel    string
	done   bool
}

// Reserve creates the version directory of vpath in home (if missing) and
// reserves a free version name in it for a version that stopped being
// current at time at. The name is at, or a few milliseconds later when
// other versions of the file already hold that time.
func (s *Store) Reserve(home, vpath string, at time.Time) (*Slot, error) {
	dirRel, err := storeRel(home, vpath)
	if err != nil || path.Clean(vpath) == "/" {
		return nil, fmt.Errorf("reserve version of %q: %w", vpath, ErrInvalidPath)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.root.MkdirAll(dirRel, 0o700); err != nil {
		return nil, fmt.Errorf("create version directory: %w", err)
	}
	dir, err := s.root.Open(dirRel)
	if err != nil {
		return nil, fmt.Errorf("open version directory: %w", err)
	}
	t := at.UTC().Truncate(time.Millisecond)
	for i := range maxSameTime {
		name := t.Add(time.Duration(i) * time.Millisecond).Format(NameLayout)
		rel := filepath.Join(dirRel, name)
		if _, taken := s.names[rel]; taken {
			continue
		}
		if _, err := s.root.Lstat(rel); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		s.names[rel] = struct{}{}
		s.busy[dirRel]++
		return &Slot{
			Dir: dir, Name: name, Path: filepath.Join(s.dir, rel),
			store: s, home: filepath.Clean(home), dirRel: dirRel, rel: rel,
		}, nil
	}
	dir.Close()
	return nil, fmt.Errorf("reserve version of %q: %w", vpath, fs.ErrExist)
}

// Commit records that the old content is in place under the slot's name,
// trims the file's versions to Keep (removing the oldest) and releases the
// slot.
func (sl *Slot) Commit() error {
	if sl.done {
		return nil
	}
	err := sl.Dir.Sync() // make the new directory entry durable
	sl.release()
	sl.store.added(sl.rel)
	if terr := sl.store.trim(sl.dirRel, time.Time{}); err == nil {
		err = terr
	}
	if berr := sl.store.bound(sl.home); err == nil {
		err = berr
	}
	if err != nil {
		return fmt.Errorf("keep version: %w", err)
	}
	return nil
}

// Protect marks the version as protected: count trimming never removes
// it, only age pruning (MaxAge) does. The mark is the file's mode (0400),
// so it survives restarts without any index. Call it before Commit.
func (sl *Slot) Protect() error {
	if err := sl.store.root.Chmod(sl.rel, protectedMode); err != nil {
		return fmt.Errorf("protect version: %w", err)
	}
	return nil
}

// protectedMode marks a protected version (see Slot.Protect).
const protectedMode = 0o400

// isProtected reports whether a version file carries the protected mark.
func (s *Store) isProtected(rel string) bool {
	fi, err := s.root.Lstat(rel)
	return err == nil && isProtectedMode(fi.Mode())
}

// Cancel removes whatever the caller placed under the slot's name (if
// anything) and releases the slot. Cancel after Commit does nothing.
func (sl *Slot) Cancel() error {
	if sl.done {
		return nil
	}
	err := sl.store.root.Remove(sl.rel)
	sl.release()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cancel version: %w", err)
	}
	return nil
}

func (sl *Slot) release() {
	sl.done = true
	sl.Dir.Close()
	s := sl.store
	s.mu.Lock()
	delete(s.names, sl.rel)
	if s.busy[sl.dirRel]--; s.busy[sl.dirRel] <= 0 {
		delete(s.busy, sl.dirRel)
	}
	s.mu.Unlock()
}

// versionFile is one version found in a version directory.
type versionFile struct {
	name string
	at   time.Time
}

// parseName returns the time a version name stands for.
func parseName(name string) (time.Time, bool) {
	t, err := time.Parse(NameLayout, name)
	return t, err == nil && len(name) == len(NameLayout)
}

// versionsIn lists the versions (regular files with version names) in the
// directory dirRel, oldest first.
func (s *Store) versionsIn(dirRel string) ([]versionFile, []fs.DirEntry, error) {
	d, err := s.root.Open(dirRel)
	if err != nil {
		return nil, nil, err
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, nil, err
	}
	var vs []versionFile
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if t, ok := parseName(e.Name()); ok {
			vs = append(vs, versionFile{e.Name(), t})
		}
	}
	slices.SortFunc(vs, func(a, b versionFile) int { return strings.Compare(a.name, b.name) })
	return vs, entries, nil
}

// trim removes the versions in dirRel beyond the newest Keep, and those
// older than cutoff (unless it is zero).
func (s *Store) trim(dirRel string, cutoff time.Time) error {
	vs, _, err := s.versionsIn(dirRel)
	if err != nil {
		return err
	}
	var errs []error
	for i, v := range vs {
		if s.doomed(i, len(vs), filepath.Join(dirRel, v.name), v.at, cutoff) {
			if err := s.remove(filepath.Join(dirRel, v.name)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// doomed says whether the i-th oldest of n versions goes: older than the
// cutoff always; beyond the newest Keep only when it is not protected.
func (s *Store) doomed(i, n int, rel string, at, cutoff time.Time) bool {
	if !cutoff.IsZero() && at.Before(cutoff) {
		return true
	}
	return i < n-s.keep && !s.isProtected(rel)
}
