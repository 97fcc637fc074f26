package versions

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// The byte bound (Options.MaxBytes) applies to each home's tree of
// versions. The store counts the bytes of every home it has measured, adds
// each version committed and subtracts each one removed; a home is
// measured (its tree walked) the first time its count is needed. When a
// commit takes a home past MaxBytes, the home's tree is walked, its count
// corrected from what is on disk, and its oldest unprotected versions
// removed until it is at 90% of MaxBytes, so that a home at its bound is
// walked once per tenth of the bound that arrives, not at every commit.
// Protected versions (an append-only user's, see Slot.Protect) are never
// removed for the bound: Admit refuses a new one that would take them past
// it. A home inside another home's folder counts toward both.

// ErrFull is returned by Admit when a protected version would take its
// home's protected versions past MaxBytes.
var ErrFull = errors.New("version storage full")

// homeUsages holds the byte counts of the homes measured so far.
type homeUsages struct {
	mu    sync.Mutex // also serialises bound's walks
	homes map[string]*homeUsage
}

// homeUsage is the bytes of one home's versions, and of the protected ones
// among them.
type homeUsage struct {
	total, protected int64
}

// MaxBytes returns the per-home byte bound (0: none).
func (s *Store) MaxBytes() int64 { return s.maxBytes }

// adjust adds delta bytes to every measured home whose tree holds the
// store-relative path rel. Call with u.mu held.
func (u *homeUsages) adjust(rel string, delta int64, protected bool) {
	for h, hu := range u.homes {
		if rel == h || strings.HasPrefix(rel, h+string(filepath.Separator)) {
			hu.total += delta
			if protected {
				hu.protected += delta
			}
		}
	}
}

// added counts the version just committed at rel.
func (s *Store) added(rel string) {
	if s.maxBytes <= 0 {
		return
	}
	fi, err := s.root.Lstat(rel)
	if err != nil {
		return
	}
	s.usage.mu.Lock()
	s.usage.adjust(rel, fi.Size(), isProtectedMode(fi.Mode()))
	s.usage.mu.Unlock()
}

// remove removes the version at rel (gone already is fine) and uncounts it.
func (s *Store) remove(rel string) error {
	fi, _ := s.root.Lstat(rel)
	err := s.root.Remove(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi != nil && s.maxBytes > 0 {
		s.usage.mu.Lock()
		s.usage.adjust(rel, -fi.Size(), isProtectedMode(fi.Mode()))
		s.usage.mu.Unlock()
	}
	return nil
}

// isProtectedMode reports whether a version file's mode carries the
// protected mark.
func isProtectedMode(m fs.FileMode) bool { return m.Perm()&0o200 == 0 }

// usageOf returns home's count, measuring it first if needed. Call with
// s.usage.mu held.
func (s *Store) usageOf(home string) (*homeUsage, error) {
	if hu := s.usage.homes[home]; hu != nil {
		return hu, nil
	}
	vs, err := s.walkHome(home)
	if err != nil {
		return nil, err
	}
	hu := &homeUsage{}
	for _, v := range vs {
		hu.total += v.size
		if v.protected {
			hu.protected += v.size
		}
	}
	if s.usage.homes == nil {
		s.usage.homes = make(map[string]*homeUsage)
	}
	s.usage.homes[home] = hu
	return hu, nil
}

// Admit checks, before an append-only user's overwrite, that keeping the
// old content (size bytes) as a protected version leaves home's protected
// versions within MaxBytes; ErrFull otherwise. Unprotected versions are
// always admitted: the bound removes older ones to make room.
func (s *Store) Admit(home string, size int64) error {
	if s.maxBytes <= 0 {
		return nil
	}
	home = filepath.Clean(home)
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	hu, err := s.usageOf(home)
	if err != nil {
		return fmt.Errorf("measure versions of %q: %w", home, err)
	}
	if hu.protected+size > s.maxBytes {
		return ErrFull
	}
	return nil
}

// bound removes home's oldest unprotected versions while the home is past
// MaxBytes, down to 90% of it.
func (s *Store) bound(home string) error {
	if s.maxBytes <= 0 {
		return nil
	}
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	hu, err := s.usageOf(home)
	if err != nil || hu.total <= s.maxBytes {
		return err
	}
	vs, err := s.walkHome(home)
	if err != nil {
		return fmt.Errorf("bound versions of %q: %w", home, err)
	}
	slices.SortStableFunc(vs, func(a, b sizedVersion) int { return a.at.Compare(b.at) })
	hu.total, hu.protected = 0, 0
	for _, v := range vs {
		hu.total += v.size
		if v.protected {
			hu.protected += v.size
		}
	}
	target := s.maxBytes - s.maxBytes/10
	var errs []error
	for _, v := range vs {
		if hu.total <= target {
			break
		}
		if v.protected {
			continue
		}
		if err := s.root.Remove(v.rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		// Other measured homes holding this one are corrected by their
		// own next walk: their counts only ever run high.
		hu.total -= v.size
	}
	return errors.Join(errs...)
}

// sizedVersion is one version found by walkHome.
type sizedVersion struct {
	rel       string
	at        time.Time
	size      int64
	protected bool
}

// walkHome returns every version in home's tree, in no particular order.
func (s *Store) walkHome(home string) ([]sizedVersion, error) {
	var out []sizedVersion
	err := s.walkDir(home, 0, &out)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	return out, err
}

func (s *Store) walkDir(rel string, depth int, out *[]sizedVersion) error {
	if depth > maxDepth {
		return nil
	}
	vs, entries, err := s.versionsIn(rel)
	if err != nil {
		if depth > 0 && errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		return err
	}
	infos := make(map[string]fs.DirEntry, len(vs))
	for _, e := range entries {
		infos[e.Name()] = e
	}
	for _, v := range vs {
		fi, err := infos[v.name].Info()
		if err != nil {
			continue
		}
		*out = append(*out, sizedVersion{rel: filepath.Join(rel, v.name), at: v.at, size: fi.Size(), protected: isProtectedMode(fi.Mode())})
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := s.walkDir(filepath.Join(rel, e.Name()), depth+1, out); err != nil {
				return err
			}
		}
	}
	return nil
}
