package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/agent/status"
)

// sameContent reports whether the remote file rpath and the local file
// lpath hold the same bytes, by the server's SHA-256 (HASH). Without HASH
// it cannot tell, and says false.
func sameContent(ctx context.Context, pool *remote.Pool, rpath, lpath string) (bool, error) {
	theirs, err := pool.Hash(ctx, rpath)
	if err != nil {
		return false, err
	}
	f, err := os.Open(lpath)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return [32]byte(h.Sum(nil)) == theirs, nil
}

// treeTally counts what a recursive get or put did.
type treeTally struct {
	files, same, failed int
	bytes               int64
	start               time.Time
}

func (t *treeTally) report(m *Main, verb, where string) error {
	fmt.Fprintf(m.Stdout, "%s %d files (%s) to %s in %s; %d already there, unchanged\n", verb, t.files,
		status.HumanBytes(t.bytes), where, time.Since(t.start).Round(time.Millisecond), t.same)
	if t.failed > 0 {
		return fmt.Errorf("%d files not copied (named above); run the command again to finish", t.failed)
	}
	return nil
}

// getTree copies the remote folder rpath and everything below it into
// the local folder lpath. Each file is downloaded as get does (resumed,
// verified), and skipped when the local copy already has its content;
// running it again after an interruption finishes the job.
func (m *Main) getTree(ctx context.Context, pool *remote.Pool, rpath, lpath string) error {
	entries, err := pool.Walk(ctx, rpath, nil)
	if err != nil {
		return fmt.Errorf("get -r %s: %w", rpath, err)
	}
	rels := make([]string, 0, len(entries))
	for rel := range entries {
		if !filepath.IsLocal(filepath.FromSlash(rel)) {
			return fmt.Errorf("get -r %s: the server listed %q, which would land outside %s", rpath, rel, lpath)
		}
		rels = append(rels, rel)
	}
	sort.Strings(rels) // a folder before what is in it
	if err := os.MkdirAll(lpath, 0o755); err != nil {
		return err
	}
	t := treeTally{start: time.Now()}
	for _, rel := range rels {
		e, local := entries[rel], filepath.Join(lpath, filepath.FromSlash(rel))
		if e.Dir {
			if err := os.MkdirAll(local, 0o755); err != nil {
				return err
			}
			continue
		}
		res, same, err := m.getFile(ctx, pool, path.Join(rpath, rel), local, e.Size)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			t.failed++
			fmt.Fprintf(m.Stderr, "syncagent: get %s: %v\n", path.Join(rpath, rel), err)
		case same:
			t.same++
		default:
			t.files++
			t.bytes += res.Size
		}
	}
	return t.report(m, "received", lpath)
}

// putTree copies the local folder lpath and everything below it to the
// remote folder rpath, as getTree does the other way. Only regular files
// and folders are copied; anything else is named and left out.
func (m *Main) putTree(ctx context.Context, pool *remote.Pool, lpath, rpath string) error {
	t := treeTally{start: time.Now()}
	err := filepath.WalkDir(lpath, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(lpath, p)
		if err != nil {
			return err
		}
		target := path.Join(rpath, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			return pool.MkdirAll(ctx, target)
		case !d.Type().IsRegular():
			fmt.Fprintf(m.Stderr, "syncagent: put: skipped %s: not a regular file or folder\n", p)
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		res, same, err := m.putFile(ctx, pool, p, target, fi.Size())
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			t.failed++
			fmt.Fprintf(m.Stderr, "syncagent: put %s: %v\n", p, err)
		case same:
			t.same++
		default:
			t.files++
			t.bytes += res.Size
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("put -r %s: %w", lpath, err)
	}
	return t.report(m, "sent", rpath)
}
