package agent

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
)

// TestWalkCacheTreeEqualsMLSD: the walk cache's walk through one SITE
// TREE gives what its walk directory by directory (MLSD) gives on the
// same tree: the same entries (ignored subtrees and temporaries left out),
// the same temporaries seen, and the same listing of every directory
// (modify fact and digest), so either can be persisted and re-used.
func TestWalkCacheTreeEqualsMLSD(t *testing.T) {
	s := startE2EServer(t)
	root := filepath.Join(s.Home, "remote")
	for _, f := range []string{"a.txt", "d1/b.txt", "d1/d2/c.txt", "d1/d2/d3/d.txt", "d4/e.txt",
		"skipme/x.txt", "skipme/inner/y.txt", "d1/" + remote.TempPrefix + "0123456789abcdef",
		"d4/" + remote.TempPrefix + "dir/inside.txt", "sp ace/ñ 日本.txt"} {
		putFile(t, filepath.Join(root, filepath.FromSlash(f)), "content of "+f)
	}
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := testPool(t, s, 2)
	ctx := context.Background()
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	skip := func(rel string, e remote.Entry) bool { return rel == "skipme" }

	byTree := &walkCache{now: clock.now}
	gotFacts, err := byTree.walk(ctx, p, "/remote", 2, skip, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !byTree.byTree {
		t.Fatal("a first walk on syncserver did not use SITE TREE")
	}
	// A cache whose only remembered listing is settled (and stale) lists
	// directory by directory.
	byDir := &walkCache{now: clock.now, dirs: map[string]*dirListing{
		"": {listedAt: clock.now().Add(2 * listingSettle), firstSeen: clock.now()},
	}}
	wantFacts, err := byDir.walk(ctx, p, "/remote", 2, skip, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if byDir.byTree || byDir.reused != 0 {
		t.Fatalf("the MLSD walk used the tree (%v) or re-used %d listings", byDir.byTree, byDir.reused)
	}
	got, want := entriesOf(gotFacts), entriesOf(wantFacts)
	if d := sameListing(got, want); len(d) > 0 {
		t.Fatalf("tree walk differs from the MLSD walk:\n%s", strings.Join(d, "\n"))
	}
	for rel, e := range got {
		if w := want[rel]; e.Name != w.Name || e.Perm != w.Perm {
			t.Errorf("%s: %+v vs %+v", rel, e, w)
		}
		if strings.HasPrefix(rel, "skipme") || strings.Contains(rel, remote.TempPrefix) {
			t.Errorf("walk holds %q", rel)
		}
	}
	if !maps.EqualFunc(byTree.temps, byDir.temps, func(a, b remote.Entry) bool { return a.ModTime.Equal(b.ModTime) && a.Size == b.Size }) ||
		len(byTree.temps) != 1 {
		t.Errorf("temporaries seen: tree %v, MLSD %v; want the one file", byTree.temps, byDir.temps)
	}
	if byTree.listed != byDir.listed || len(byTree.dirs) != len(byDir.dirs) {
		t.Fatalf("tree listed %d directories (%d kept), MLSD %d (%d)", byTree.listed, len(byTree.dirs), byDir.listed, len(byDir.dirs))
	}
	for rel, d := range byDir.dirs {
		td := byTree.dirs[rel]
		if td == nil || !td.modify.Equal(d.modify) || td.digest != d.digest {
			t.Errorf("directory %q: tree listing %+v, MLSD listing %+v", rel, td, d)
		}
	}
}
