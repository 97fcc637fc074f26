package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/agent/plan"
)

// syncUntilQuiet runs passes until one leaves nothing undone (at most
// five), then checks that a dry run finds nothing to do.
func syncUntilQuiet(t *testing.T, a *Agent) {
	t.Helper()
	ctx := context.Background()
	var err error
	for range 5 {
		if err = a.Sync(ctx, "", false, io.Discard); err == nil {
			break
		}
		if !errors.Is(err, ErrNotInSync) {
			t.Fatal(err)
		}
	}
	if err != nil {
		t.Fatalf("not in sync after 5 passes: %v", err)
	}
	var out bytes.Buffer
	if err := a.Sync(ctx, "", true, &out); err != nil {
		t.Fatalf("a pass after convergence would act: %v\n%s", err, out.String())
	}
}

// TestConflictMovesLocalDirectoryAside: a synced file replaced by a
// directory locally and edited on the server is a conflict whose local
// side, the whole directory, moves aside under a conflict name; the
// remote edit takes the path, and both sides converge with both kept (it
// used to count a conflict every pass, forever, and make no copy).
func TestConflictMovesLocalDirectoryAside(t *testing.T) {
	forEachServer(t, func(t *testing.T, s ftpTarget) {
		local := t.TempDir()
		putFile(t, filepath.Join(local, "doc.txt"), "first version")
		a, _ := syncRetryAgent(t, s.folderConfig(t, local, "/cm", ModeTwoWay), 1)
		if err := a.Sync(context.Background(), "", false, io.Discard); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(local, "doc.txt")); err != nil {
			t.Fatal(err)
		}
		putFile(t, filepath.Join(local, "doc.txt/inner.txt"), "now a directory")
		s.putRemote(t, "cm/doc.txt", "edited on the server, longer")

		syncUntilQuiet(t, a)
		if b, err := os.ReadFile(filepath.Join(local, "doc.txt")); err != nil || string(b) != "edited on the server, longer" {
			t.Fatalf("local doc.txt: %q, %v; want the remote edit", b, err)
		}
		copies := conflictCopies(t, local, "doc", ".txt")
		if len(copies) != 1 {
			t.Fatalf("conflict copies: %v, want one", copies)
		}
		if b, err := os.ReadFile(filepath.Join(copies[0], "inner.txt")); err != nil || string(b) != "now a directory" {
			t.Fatalf("the moved directory's file: %q, %v", b, err)
		}
		if d := diffTrees(tree(t, local), tree(t, filepath.Join(s.Home, "cm"))); len(d) > 0 {
			t.Fatalf("sides differ: %v", d)
		}
	})
}

// modelShape is one state of a path in the planner's model (plan's
// model_test.go): absent, a directory, or a file of content 1, 2 (the
// size of 1) or 3 (another size).
type modelShape int

const (
	mAbsent modelShape = iota
	mDir
	mFile1
	mFile2
	mFile3
)

func (m modelShape) String() string {
	return [...]string{"absent", "dir", "file1", "file2", "file3"}[m]
}

// content is a file shape's content: 1 and 2 of one size, 3 of another.
func (m modelShape) content() string {
	switch m {
	case mFile1:
		return strings.Repeat("1", 100)
	case mFile2:
		return strings.Repeat("2", 100)
	case mFile3:
		return strings.Repeat("3", 250)
	}
	return ""
}

// make puts shape m at p (nothing for absent), a file dated at mtime.
func (m modelShape) make(t testing.TB, p string, mtime time.Time) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	switch m {
	case mAbsent:
	case mDir:
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	default:
		putFile(t, p, m.content())
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExecutorFollowsModel drives the real executor (real files in a
// temporary directory, the real syncserver) through every state of one
// path the planner's model generates: a base (absent, a directory, a
// file) and each side as synced, deleted, a directory, or a file of
// either content. After at most five passes the sides must converge,
// with every file content either side edited kept somewhere (at the path
// or in a conflict copy), which is what the model's apply promises for
// each action kind.
func TestExecutorFollowsModel(t *testing.T) {
	s := startE2EServer(t).target()
	bases := []modelShape{mAbsent, mDir, mFile1}
	sides := []modelShape{mAbsent, mDir, mFile1, mFile2, mFile3}
	for _, base := range bases {
		for _, l := range sides {
			for _, r := range sides {
				name := fmt.Sprintf("base=%v/local=%v/remote=%v", base, l, r)
				t.Run(name, func(t *testing.T) {
					rdir := fmt.Sprintf("/model-%v-%v-%v", base, l, r)
					local := t.TempDir()
					remoteRoot := filepath.Join(s.Home, filepath.FromSlash(rdir[1:]))
					if err := os.MkdirAll(filepath.Join(remoteRoot, "d"), 0o755); err != nil {
						t.Fatal(err)
					}
					lp := filepath.Join(local, "d", "f.txt")
					rp := filepath.Join(remoteRoot, "d", "f.txt")
					then := time.Now().Add(-time.Hour).Truncate(time.Second)
					base.make(t, lp, then)
					a, _ := syncRetryAgent(t, s.folderConfig(t, local, rdir, ModeTwoWay), 1)
					syncUntilQuiet(t, a)

					later := then.Add(10 * time.Minute)
					kept := map[string]bool{}
					if l != base || l == mAbsent {
						l.make(t, lp, later)
					}
					if r != base || r == mAbsent {
						r.make(t, rp, later.Add(time.Minute))
					}
					for _, m := range []modelShape{l, r} {
						if c := m.content(); c != "" && m != base { // an edit: never lost
							kept[c] = true
						}
					}
					syncUntilQuiet(t, a)
					lt, rt := tree(t, local), tree(t, remoteRoot)
					if d := diffTrees(lt, rt); len(d) > 0 {
						t.Fatalf("sides differ: %v", d)
					}
					held := map[string]bool{}
					filepath.WalkDir(local, func(p string, d os.DirEntry, err error) error {
						if err == nil && d.Type().IsRegular() {
							b, _ := os.ReadFile(p)
							held[string(b)] = true
						}
						return nil
					})
					for c := range kept {
						if !held[c] {
							t.Errorf("content %q… was lost", c[:1])
						}
					}
				})
			}
		}
	}
}

// TestUnknownActionIsAnError: an action kind the executor has no code for
// (a planner newer than its executor) fails its path; it is never counted
// as done.
func TestUnknownActionIsAnError(t *testing.T) {
	s := startE2EServer(t).target()
	a, _ := syncRetryAgent(t, s.folderConfig(t, t.TempDir(), "/u", ModePush), 1)
	res := passResult{Problems: map[string]error{}}
	for _, k := range []plan.Kind{plan.Compare, plan.Kind(250)} {
		err := a.folders[0].do(context.Background(), plan.Action{Kind: k, Path: "x"}, plan.Item{Path: "x"}, &res)
		if !errors.Is(err, errUnknownAction) {
			t.Errorf("executing %v: %v, want %v", k, err, errUnknownAction)
		}
	}
}

// TestConflictMovesSymlinkAside: a conflict whose local side, a directory
// when planned, became a symlink (the folder moved elsewhere and linked
// back) before its execution moves the symlink aside as it is, like any
// other entry, and the remote content takes the path.
func TestConflictMovesSymlinkAside(t *testing.T) {
	s := startE2EServer(t).target()
	local := t.TempDir()
	putFile(t, filepath.Join(local, "s.txt"), "synced")
	a, _ := syncRetryAgent(t, s.folderConfig(t, local, "/sym", ModeTwoWay), 1)
	ctx := context.Background()
	if err := a.Sync(ctx, "", false, io.Discard); err != nil {
		t.Fatal(err)
	}
	s.putRemote(t, "sym/s.txt", "edited on the server")
	if err := a.Sync(ctx, "", true, io.Discard); !errors.Is(err, ErrPending) {
		t.Fatalf("dry run: %v, want the remote edit pending", err)
	}
	f := a.folders[0]
	it, err := f.item("s.txt", map[string]scanned{}, nil) // the remote side as listed
	if err != nil {
		t.Fatal(err)
	}
	it.Local = plan.Side{Exists: true, Dir: true} // what the plan saw
	if err := os.Remove(filepath.Join(local, "s.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("elsewhere", filepath.Join(local, "s.txt")); err != nil {
		t.Fatal(err)
	}
	res := passResult{Problems: map[string]error{}}
	if err := f.do(ctx, plan.Action{Kind: plan.Conflict, Path: "s.txt"}, it, &res); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(local, "s.txt")); err != nil || string(b) != "edited on the server" {
		t.Fatalf("local s.txt: %q, %v; want the remote content", b, err)
	}
	copies := conflictCopies(t, local, "s", ".txt")
	if len(copies) != 1 {
		t.Fatalf("conflict copies: %v, want one", copies)
	}
	if target, err := os.Readlink(copies[0]); err != nil || target != "elsewhere" {
		t.Fatalf("the copy is not the symlink moved aside: %q, %v", target, err)
	}
}
