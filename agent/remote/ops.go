package remote

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// ErrNotFile: the remote path is a directory where a file was expected.
var ErrNotFile = errors.New("remote: not a regular file")

// checkPath accepts absolute slash paths that FTP can carry.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\r\n\x00") {
		return fmt.Errorf("%w: %q (want an absolute slash path)", ErrBadPath, p)
	}
	return nil
}

func opError(op, p string, err error) error {
	return fmt.Errorf("%s %s: %w", op, p, err)
}

// Rename moves from to to on the server, creating to's parent directories
// when needed. It replaces an existing file at to where the server allows.
func (p *Pool) Rename(ctx context.Context, from, to string) error {
	if err := errors.Join(checkPath(from), checkPath(to)); err != nil {
		return err
	}
	err := p.do(ctx, func(s *slot) error { return p.rename(s, from, to) })
	if err != nil {
		return fmt.Errorf("rename %s to %s: %w", from, to, err)
	}
	return nil
}

// rename tries the rename first and creates the parent directory only if
// that fails, which saves round trips in the common case.
func (p *Pool) rename(s *slot, from, to string) error {
	err := s.ctl.rename(from, to)
	if err == nil || !parentMayBeMissing(err) {
		return err
	}
	if err := p.mkdirAll(s, path.Dir(to)); err != nil {
		return err
	}
	return s.ctl.rename(from, to)
}

// parentMayBeMissing reports a refused RNTO that creating the target's
// parent may cure: a 5xx reply, or pure-ftpd's 451 "Rename/move failure:
// No such file or directory".
func parentMayBeMissing(err error) bool {
	return permanentReply(err) || ReplyCode(err) == codeLocalError
}

// permanentReply reports a 5xx reply, after which the connection is fine
// and a different approach may work.
func permanentReply(err error) bool {
	c := ReplyCode(err)
	return c >= 500 && c < 600
}

// Delete removes one file.
func (p *Pool) Delete(ctx context.Context, file string) error {
	if err := checkPath(file); err != nil {
		return err
	}
	err := p.do(ctx, func(s *slot) error { return s.ctl.dele(file) })
	if err != nil {
		return opError("delete", file, err)
	}
	return nil
}

// RemoveDir removes a directory; recursive removes its contents first.
func (p *Pool) RemoveDir(ctx context.Context, dir string, recursive bool) error {
	if err := checkPath(dir); err != nil {
		return err
	}
	if path.Clean(dir) == "/" {
		return fmt.Errorf("%w: refusing to remove /", ErrBadPath)
	}
	err := p.do(ctx, func(s *slot) error {
		if recursive {
			return p.removeTree(s, dir, 0)
		}
		return s.ctl.rmd(dir)
	})
	if err != nil {
		return opError("remove dir", dir, err)
	}
	return nil
}

// maxDepth bounds recursion in removeTree and mkdirAll against a server
// that lists a directory inside itself.
const maxDepth = 256

func (p *Pool) removeTree(s *slot, dir string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("remove %s: tree deeper than %d", dir, maxDepth)
	}
	entries, err := p.list(s, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		child := path.Join(dir, e.Name)
		if e.Dir {
			err = p.removeTree(s, child, depth+1)
		} else {
			err = s.ctl.dele(child)
		}
		if err != nil {
			return err
		}
	}
	return s.ctl.rmd(dir)
}

// MkdirAll creates dir and any missing parents.
func (p *Pool) MkdirAll(ctx context.Context, dir string) error {
	if err := checkPath(dir); err != nil {
		return err
	}
	err := p.do(ctx, func(s *slot) error { return p.mkdirAll(s, dir) })
	if err != nil {
		return opError("mkdir", dir, err)
	}
	return nil
}

// mkdirAll tries MKD on dir and walks up only on failure, so an existing
// parent chain costs one round trip.
func (p *Pool) mkdirAll(s *slot, dir string) error {
	var missing []string
	for d := path.Clean(dir); d != "/" && len(missing) < maxDepth; d = path.Dir(d) {
		err := s.ctl.mkd(d)
		if err == nil || (permanentReply(err) && p.isDir(s, d)) {
			break
		}
		if !permanentReply(err) {
			return err
		}
		missing = append(missing, d)
	}
	// Create from the top down what was missing; the deepest first try
	// above failed because its parent did not exist.
	for i := len(missing) - 1; i >= 0; i-- {
		if err := s.ctl.mkd(missing[i]); err != nil && !(permanentReply(err) && p.isDir(s, missing[i])) {
			return err
		}
	}
	return nil
}

// isDir reports whether d exists as a directory. It uses CWD, which every
// server has; later commands use absolute paths, so the working directory
// does not matter.
func (p *Pool) isDir(s *slot, d string) bool {
	return s.ctl.cwd(d) == nil
}

// Hash returns the server's SHA-256 of file, or ErrNotSupported when the
// server does not offer HASH with SHA-256.
func (p *Pool) Hash(ctx context.Context, file string) ([32]byte, error) {
	var sum [32]byte
	if err := checkPath(file); err != nil {
		return sum, err
	}
	err := p.do(ctx, func(s *slot) error {
		var err error
		sum, err = s.ctl.hash(file)
		return err
	})
	if err != nil {
		return sum, opError("hash", file, err)
	}
	return sum, nil
}

// Stat returns the entry for one path (MLST, else SIZE and MDTM).
func (p *Pool) Stat(ctx context.Context, name string) (Entry, error) {
	if err := checkPath(name); err != nil {
		return Entry{}, err
	}
	var e Entry
	err := p.do(ctx, func(s *slot) error {
		var err error
		e, err = p.stat(s, name)
		return err
	})
	if err != nil {
		return Entry{}, opError("stat", name, err)
	}
	return e, nil
}

func (p *Pool) stat(s *slot, name string) (Entry, error) {
	if s.ctl.caps.MLSD {
		return s.ctl.mlst(name)
	}
	size, err := s.ctl.size(name)
	if err != nil {
		return Entry{}, err
	}
	return p.statSized(s, name, size)
}

// statSized is stat on a server without MLST for a file whose size is
// already known: it asks only for the modification time, where the server
// tells it.
func (p *Pool) statSized(s *slot, name string, size int64) (Entry, error) {
	e := Entry{Name: path.Base(name), Size: size}
	if s.ctl.caps.MDTM {
		var err error
		if e.ModTime, err = s.ctl.mdtm(name); err != nil {
			return Entry{}, err
		}
	}
	return e, nil
}

// CleanTemps removes our temporaries (TempPrefix files) under root that
// are older than olderThan, except those this pool keeps for resuming an
// upload, and returns how many it removed. Temporaries whose age the server
// does not tell are removed only when olderThan is 0.
func (p *Pool) CleanTemps(ctx context.Context, root string, olderThan time.Duration) (int, error) {
	if err := checkPath(root); err != nil {
		return 0, err
	}
	_, temps, err := p.WalkWithTemps(ctx, root, nil)
	if err != nil {
		return 0, err
	}
	return p.RemoveStaleTemps(ctx, root, temps, olderThan)
}

func lastElem(p string) string { return path.Base(p) }
