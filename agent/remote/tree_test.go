package remote

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/testproxy"
)

// treeFixture writes a tree with nested directories, temporaries (a file
// and a directory), an ignored subtree, odd names and a symbolic link.
func treeFixture(t *testing.T, home string) {
	t.Helper()
	old := time.Now().Add(-48 * time.Hour)
	for _, f := range []string{
		"t/a.txt", "t/sub/b.txt", "t/sub/deeper/c.txt", "t/sub/deeper/most/d.txt",
		"t/ignored/x.txt", "t/ignored/inner/y.txt", "t/sp ace/ñame 日本.txt",
		"t/" + TempPrefix + "file", "t/sub/" + TempPrefix + "dir/inside.txt",
		"t/other/z.txt",
	} {
		writeFile(t, filepath.Join(home, filepath.FromSlash(f)), []byte("content of "+f), old)
	}
	if err := os.MkdirAll(filepath.Join(home, "t/empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(home, "t/sub"), filepath.Join(home, "t/link")); err != nil {
		t.Fatal(err)
	}
}

// TestTreeWalkEqualsDirWalk: Walk through SITE TREE gives exactly what
// the MLSD walk gives on the same tree, with a skip function and with and
// without temporaries.
func TestTreeWalkEqualsDirWalk(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	treeFixture(t, ts.Home())
	p := newPool(t, ts.Addr)
	ctx := testCtx(t)
	if ok, err := p.CanTree(ctx); err != nil || !ok {
		t.Fatalf("CanTree = %v, %v; syncserver offers SITE TREE", ok, err)
	}
	skip := func(rel string, e Entry) bool { return rel == "ignored" || strings.HasSuffix(rel, "/most") }
	for _, keepTemps := range []bool{false, true} {
		for _, sk := range []func(string, Entry) bool{nil, skip} {
			want, err := collectWalk(ctx, p.dirWalkEach, "/t", sk, keepTemps)
			if err != nil {
				t.Fatal(err)
			}
			got, err := collectWalk(ctx, p.treeWalkEach, "/t", sk, keepTemps)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				t.Errorf("keepTemps %v, skip %v:\ntree %v\nmlsd %v", keepTemps, sk != nil, got, want)
			}
			walked, err := p.Walk(ctx, "/t", sk)
			if err != nil || (!keepTemps && !maps.Equal(walked, want)) {
				t.Errorf("Walk = %v, %v", walked, err)
			}
			for rel := range got {
				if strings.Contains(rel, "ignored") && sk != nil || strings.HasPrefix(rel, "link/") {
					t.Errorf("tree walk has %q", rel)
				}
			}
		}
	}
	if _, err := collectWalk(ctx, p.treeWalkEach, "/missing", nil, false); ReplyCode(err) != 550 {
		t.Errorf("tree of a missing root: %v, want a 550", err)
	}
}

// TestTreeFallsBackWhenIncomplete: a tree deeper than the server lists in
// one SITE TREE is still walked whole, directory by directory.
func TestTreeFallsBackWhenIncomplete(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	dir := filepath.Join(ts.Home(), "deep")
	for range 260 {
		dir = filepath.Join(dir, "d")
	}
	writeFile(t, filepath.Join(dir, "bottom.txt"), []byte("x"), time.Now())
	p := newPool(t, ts.Addr)
	ctx := testCtx(t)
	err := p.Tree(ctx, "/deep", func(string, Entry) bool { return true })
	if !errors.Is(err, ErrTreeIncomplete) || ReplyCode(err) != 451 {
		t.Fatalf("Tree of a too deep tree: %v, want ErrTreeIncomplete with 451", err)
	}
	all, err := p.Walk(ctx, "/deep", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 261 {
		t.Errorf("Walk found %d entries, want 261", len(all))
	}
}

// TestCleanTempsKeepsResumable: a temporary this pool may still resume an
// upload into survives a clean-up at any age.
func TestRemoveStaleTempsKeepsResumable(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	old := time.Now().Add(-48 * time.Hour)
	writeFile(t, filepath.Join(ts.Home(), "r", TempPrefix+"resume"), []byte("x"), old)
	writeFile(t, filepath.Join(ts.Home(), "r", TempPrefix+"stale"), []byte("x"), old)
	p := newPool(t, ts.Addr)
	p.keepResume("/r/target", resumeState{temp: "/r/" + TempPrefix + "resume"})
	n, err := p.CleanTemps(testCtx(t), "/r", time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("CleanTemps = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(filepath.Join(ts.Home(), "r", TempPrefix+"resume")); err != nil {
		t.Errorf("resumable temporary removed: %v", err)
	}
}

// TestTreeWalkUnreadableSubdir: a SITE TREE that ends with 451 (a
// directory the server cannot read) makes Walk list directory by
// directory, which fails on that directory's 550 as before, never
// returning a partial tree.
func TestTreeWalkUnreadableSubdir(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	var mu sync.Mutex
	trees, mlsds := 0, 0
	px := testproxy.New(t, ts.Addr, func(line string) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasPrefix(line, "226 Tree"):
			trees++
			return "451 Cannot read directory \"a/b\"; the tree is incomplete.\r\n", true
		case strings.HasPrefix(line, "150 ") && strings.Contains(line, "MLSD"):
			if mlsds++; mlsds == 3 {
				return "550 Permission denied.\r\n", true
			}
		}
		return line, true
	})
	p := newPool(t, px.Addr(), func(c *Config) { c.Connections = 1 })
	for _, f := range []string{"a/1", "a/b/2", "a/b/c/3", "a/b/c/d/4"} {
		writeFile(t, filepath.Join(ts.Home(), "r", f), []byte("x"), time.Time{})
	}
	m, err := p.Walk(testCtx(t), "/r", nil)
	if err == nil || ReplyCode(err) != 550 {
		t.Fatalf("walk = %v, %v; want the 550 of the unreadable directory", m, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if trees != 1 {
		t.Errorf("%d SITE TREE listings, want 1 before the fallback", trees)
	}
}

// collectWalk runs one of the pool's walks and gathers what it reports.
func collectWalk(ctx context.Context, walk func(context.Context, string, func(string, Entry) bool, bool, func(string, Entry)) error,
	root string, skip func(string, Entry) bool, keepTemps bool) (map[string]Entry, error) {
	out := make(map[string]Entry)
	if err := walk(ctx, root, skip, keepTemps, func(rel string, e Entry) { out[rel] = e }); err != nil {
		return nil, err
	}
	return out, nil
}
