package remote

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unsafe"
)

// ErrTreeIncomplete reports a SITE TREE the server could not finish: a
// directory it could not read, or a tree deeper than it lists in one go.
// Listing the tree directory by directory names the failing directory
// (or gets past the depth limit), so callers fall back to that.
var ErrTreeIncomplete = errors.New("remote: tree listing incomplete")

// CanTree reports whether the server lists a whole tree with one command
// (syncserver's SITE TREE), so Tree can be used.
func (p *Pool) CanTree(ctx context.Context) (bool, error) {
	c, err := p.Caps(ctx)
	return c.Tree, err
}

// Tree lists every entry below the directory root with one SITE TREE, over
// one connection of the pool and one data connection, and calls fn for
// each, parents before their contents. rel is the entry's slash path
// relative to root and e.Name its last element (a substring of rel). rel,
// e.Name and e.ID are views of the listing's text, valid only until fn
// returns: fn copies what it keeps (copying every line would make 10 MB
// of garbage for a tree of 100,000 entries, and a caller may hold equal
// strings already). e.Perm is one shared copy per distinct value. fn returns
// whether to keep the entry: the contents of a directory it does not keep
// are left out. Entries with a path element that is not a valid name
// (empty, ".", "..") are left out with their contents, as List leaves them
// out of a directory.
//
// An error means the tree was not listed whole and what fn saw must be
// discarded: ErrNotSupported when the server has no SITE TREE,
// ErrTreeIncomplete (wrapping the server's reply) when the server could
// not list some directory, else the failure of the command or the
// connection (a missing root gives the server's 550, as List does).
//
// fn is called from one goroutine at a time, while the call holds a
// connection of the pool.
func (p *Pool) Tree(ctx context.Context, root string, fn func(rel string, e Entry) bool) error {
	if err := checkPath(root); err != nil {
		return err
	}
	err := p.do(ctx, func(s *slot) error {
		if !s.ctl.caps.Tree {
			return ErrNotSupported
		}
		return p.tree(s.ctl, root, fn)
	})
	if err != nil {
		return opError("tree", root, err)
	}
	return nil
}

// tree runs one SITE TREE on ctl.
func (p *Pool) tree(ctl *ctrlSession, root string, fn func(string, Entry) bool) error {
	dc, err := ctl.transfer("SITE TREE "+root, 0)
	if err != nil {
		return err
	}
	defer dc.Close()
	kept := make(map[string]bool)    // directories whose contents are wanted
	perms := make(map[string]string) // one copy of each perm fact
	sc := bufio.NewScanner(bufio.NewReaderSize(dc, 64<<10))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		// The line is read in place: it and the views of it (rel, the
		// name and the ID) are valid until the next Scan.
		line := sc.Bytes()
		e, ok := parseMLSx(unsafe.String(unsafe.SliceData(line), len(line)))
		if !ok || !validTreePath(e.Name) {
			continue
		}
		rel := e.Name
		if i := strings.LastIndexByte(rel, '/'); i >= 0 {
			if !kept[rel[:i]] {
				continue
			}
			e.Name = rel[i+1:]
		}
		if e.Perm != "" {
			pm, ok := perms[e.Perm]
			if !ok {
				pm = strings.Clone(e.Perm)
				perms[pm] = pm
			}
			e.Perm = pm
		}
		if !e.Dir && writeOnly(e.Perm) {
			p.noRename.Store(true)
		}
		if fn(rel, e) && e.Dir {
			kept[strings.Clone(rel)] = true
		}
	}
	readErr := sc.Err()
	dc.Close()
	code, _, err := ctl.tp.ReadResponse(2)
	switch {
	case err != nil && code == codeLocalError:
		return fmt.Errorf("%w: %w", ErrTreeIncomplete, err)
	case err != nil:
		return err
	case readErr != nil:
		return fmt.Errorf("read tree: %w", readErr)
	}
	return nil
}

// validTreePath reports whether every element of a tree entry's relative
// path is a valid name, and the path is no deeper than maxDepth.
func validTreePath(rel string) bool {
	n := 0
	for elem := range strings.SplitSeq(rel, "/") {
		if !validName(elem) {
			return false
		}
		n++
	}
	return n <= maxDepth+1
}

// treeWalkEach is walkEach over one SITE TREE.
func (p *Pool) treeWalkEach(ctx context.Context, root string, skip func(string, Entry) bool, keepTemps bool, add func(string, Entry)) error {
	return p.Tree(ctx, root, func(rel string, e Entry) bool {
		if IsTemp(e.Name) && !keepTemps {
			return false
		}
		rel = strings.Clone(rel) // skip and add may keep them
		e.Name = rel[len(rel)-len(e.Name):]
		e.ID = strings.Clone(e.ID)
		if skip != nil && skip(rel, e) {
			return false
		}
		add(rel, e)
		return true
	})
}

// RemoveStaleTemps deletes, among temps (our temporaries a walk of root
// saw, keyed by path relative to root), the files older than olderThan,
// except those this pool keeps for resuming an upload, and returns how
// many it removed. Temporaries whose age the server does not tell are
// removed only when olderThan is 0. It stops at the first failure.
func (p *Pool) RemoveStaleTemps(ctx context.Context, root string, temps map[string]Entry, olderThan time.Duration) (int, error) {
	if err := checkPath(root); err != nil {
		return 0, err
	}
	if len(temps) == 0 {
		return 0, nil
	}
	keep := p.resumeTemps()
	cutoff := time.Now().Add(-olderThan)
	n := 0
	for rel, e := range temps {
		full := path.Join(root, rel)
		if e.Dir || !IsTemp(e.Name) || keep[full] {
			continue
		}
		if olderThan > 0 && (e.ModTime.IsZero() || e.ModTime.After(cutoff)) {
			continue
		}
		if err := p.Delete(ctx, full); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
