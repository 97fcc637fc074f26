package versions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"time"
)

// Prune walks the whole store once: it removes versions older than MaxAge
// (measured from now), trims every file's versions to Keep, and removes
// version directories left empty. It stops early, returning ctx.Err(), when
// ctx ends. It holds the store's lock only around each directory removal,
// so concurrent Reserve calls (and the transfers behind them) never wait for
// a walk. It returns how many versions it removed.
func (s *Store) Prune(ctx context.Context, now time.Time) (int, error) {
	var cutoff time.Time
	if s.maxAge > 0 {
		cutoff = now.Add(-s.maxAge)
	}
	n, _, err := s.pruneDir(ctx, ".", cutoff, 0)
	if err != nil {
		return n, fmt.Errorf("prune versions: %w", err)
	}
	return n, nil
}

// maxDepth bounds the walk; virtual paths are at most 4096 bytes, so real
// trees never get near it.
const maxDepth = 2100

// pruneDir prunes the directory rel and below; empty reports whether rel
// was found empty at the end.
func (s *Store) pruneDir(ctx context.Context, rel string, cutoff time.Time, depth int) (removed int, empty bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	if depth > maxDepth {
		return 0, false, nil
	}
	vs, entries, err := s.versionsIn(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil // removed meanwhile
	}
	if err != nil {
		return 0, false, err
	}
	left := len(entries)
	var errs []error
	for i, v := range vs {
		if s.doomed(i, len(vs), filepath.Join(rel, v.name), v.at, cutoff) {
			err := s.remove(filepath.Join(rel, v.name))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			removed++
			left--
		}
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		child := filepath.Join(rel, e.Name())
		n, childEmpty, err := s.pruneDir(ctx, child, cutoff, depth+1)
		removed += n
		if err != nil {
			if ctx.Err() != nil {
				return removed, false, err
			}
			errs = append(errs, err)
			continue
		}
		if childEmpty && s.removeEmptyDir(child) {
			left--
		}
	}
	return removed, left == 0, errors.Join(errs...)
}

// removeEmptyDir removes the directory rel if it is empty and no slot is
// open in it; a directory that gained an entry meanwhile stays (rmdir
// refuses it).
func (s *Store) removeEmptyDir(rel string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[rel] > 0 {
		return false
	}
	return s.root.Remove(rel) == nil
}

// Run prunes the store every interval until ctx ends. Errors are logged to
// logger (slog.Default() if nil) and do not stop it. Run blocks; start it
// in its own goroutine.
func (s *Store) Run(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	if logger == nil {
		logger = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.Prune(ctx, time.Now())
		if err != nil && ctx.Err() == nil {
			logger.Error("prune versions", "err", err)
		}
		if n > 0 {
			logger.Info("pruned versions", "removed", n)
		}
	}
}
