package versions

import "sync"

// pathLocks serialises "keep the old file, then put the new one in place"
// for one file across every session: two replacements racing would
// otherwise both keep the same old file, and the content the first one put
// in place would never be kept.
type pathLocks struct {
	mu    sync.Mutex
	locks map[string]*pathLock
}

type pathLock struct {
	sync.Mutex
	refs int
}

// LockPath locks the file vpath of the home for a replacement or delete and
// returns the function that unlocks it. Safe for concurrent use.
func (s *Store) LockPath(home, vpath string) (unlock func()) {
	key := home + "\x00" + vpath
	s.paths.mu.Lock()
	if s.paths.locks == nil {
		s.paths.locks = make(map[string]*pathLock)
	}
	l := s.paths.locks[key]
	if l == nil {
		l = &pathLock{}
		s.paths.locks[key] = l
	}
	l.refs++
	s.paths.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		s.paths.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(s.paths.locks, key)
		}
		s.paths.mu.Unlock()
	}
}
