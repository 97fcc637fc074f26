package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/syncstate"
)

// syncedFrom is the synced state an agent would hold after syncing walk.
func syncedFrom(walk map[string]remoteFacts) map[string]syncstate.Entry {
	base := make(map[string]syncstate.Entry, len(walk))
	for p, e := range walk {
		b := syncstate.Entry{Path: p, Dir: e.Dir}
		if !e.Dir {
			b.Size, b.RemoteSize, b.RemoteMTime, b.RemoteID = e.Size, e.Size, e.modTime(), e.ID
		}
		base[p] = b
	}
	return base
}

func openState(t *testing.T, path string) *syncstate.DB {
	t.Helper()
	db, err := syncstate.Open(path, syncstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestWalkCacheSurvivesRestart: a new process re-uses the listings an
// earlier one confirmed, rebuilt from the synced state, and still sees a
// change made meanwhile in a directory it listed before.
func TestWalkCacheSurvivesRestart(t *testing.T) {
	s := startE2EServer(t)
	root := filepath.Join(s.Home, "remote")
	for i := range 3 {
		for j := range 3 {
			putFile(t, filepath.Join(root, fmt.Sprintf("d%d/e%d/f.txt", i, j)), "x")
		}
	}
	putFile(t, filepath.Join(root, "only/one/g.txt"), "g")
	p := testPool(t, s, 2)
	ctx := context.Background()
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	statePath := filepath.Join(t.TempDir(), "state.db")
	db := openState(t, statePath)
	dirs := 1 + 3 + 9 + 2

	first := &walkCache{now: clock.now, db: db, folder: "f"}
	var walk map[string]remoteFacts
	for range 2 { // list, then confirm
		var err error
		if walk, err = first.walk(ctx, p, "/remote", 2, nil, nil, walk); err != nil {
			t.Fatal(err)
		}
		clock.advance(2 * listingSettle)
	}
	base := syncedFrom(walk)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond) // changes below land in a later tick than the listings

	restartSkip := func(step string, base map[string]syncstate.Entry, skip func(string, remote.Entry) bool) *walkCache {
		t.Helper()
		db := openState(t, statePath)
		c := &walkCache{now: clock.now, db: db, folder: "f"}
		got, err := c.walk(ctx, p, "/remote", 2, skip, base, nil)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		want, err := p.Walk(ctx, "/remote", skip)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameListing(entriesOf(got), want); len(d) > 0 {
			t.Fatalf("%s: walk after restart differs from a full walk:\n%s", step, strings.Join(d, "\n"))
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		clock.advance(2 * listingSettle)
		return c
	}
	restart := func(step string, base map[string]syncstate.Entry) *walkCache {
		t.Helper()
		return restartSkip(step, base, nil)
	}
	c := restart("unchanged", base)
	if want := manySubdirs(entriesOf(walk)); c.listed != want || c.reused != dirs-want {
		t.Fatalf("unchanged after restart: listed %d, reused %d; want %d listed, %d re-used", c.listed, c.reused, want, dirs-want)
	}

	// A file added in a leaf listed before the restart.
	ftpPut(t, s.Addr, "agent", e2ePassword, "/remote/d1/e2/new.txt", "new")
	c = restart("file added in a remembered directory", base)
	if c.listed <= manySubdirs(entriesOf(walk)) {
		t.Fatalf("changed leaf not listed again: listed %d", c.listed)
	}

	// A synced state that no longer matches a listing (a lost record)
	// makes that directory listed, not trusted.
	delete(base, "only/one/g.txt")
	c = restart("synced state lost a record", base)
	if c.listed <= manySubdirs(entriesOf(walk)) {
		t.Fatalf("directory whose synced state differs not listed again: listed %d", c.listed)
	}

	// An ignore rule added since the records were synced: what they hold
	// below it leaves the walk, though the listings there stand.
	base = syncedFrom(walk)
	restart("state matches again", base)
	c = restartSkip("new ignore rule", base, func(rel string, _ remote.Entry) bool { return rel == "only/one" })
	if c.reused == 0 {
		t.Fatal("no listing re-used after the ignore rule was added")
	}
}

// TestWalkCacheUnsettledNotTrustedAfterRestart: a listing taken in the
// same second its directory changed is not trusted by the next process
// either.
func TestWalkCacheUnsettledNotTrustedAfterRestart(t *testing.T) {
	s := startE2EServer(t)
	putFile(t, filepath.Join(s.Home, "remote", "a", "f.txt"), "x")
	p := testPool(t, s, 1)
	ctx := context.Background()
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	statePath := filepath.Join(t.TempDir(), "state.db")
	db := openState(t, statePath)
	c := &walkCache{now: clock.now, db: db, folder: "f"}
	walk, err := c.walk(ctx, p, "/remote", 1, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openState(t, statePath)
	c = &walkCache{now: clock.now, db: db, folder: "f"}
	if _, err := c.walk(ctx, p, "/remote", 1, nil, syncedFrom(walk), nil); err != nil {
		t.Fatal(err)
	}
	if c.reused != 0 {
		t.Fatalf("unsettled listings re-used after restart: %d", c.reused)
	}
}

// TestDigesterReuse: a digester re-used across listings of different
// lengths gives each the digest of a fresh one.
func TestDigesterReuse(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	listings := [][]remote.Entry{
		{{Name: "b", Size: 2, ModTime: at, ID: "i2"}, {Name: "a", Dir: true}, {Name: "c", Size: 3}},
		{{Name: "x", Size: 1, ModTime: at}},
		nil,
		{{Name: "a", Dir: true}, {Name: "b", Size: 2, ModTime: at, ID: "i2"}},
	}
	var d digester
	for i, l := range listings {
		if got, want := d.digest(l), listingDigest(l); got != want {
			t.Errorf("listing %d: re-used digester gave %x, a fresh one %x", i, got, want)
		}
	}
	if listingDigest(listings[0]) == listingDigest(listings[3]) {
		t.Error("listings that differ by one file have the same digest")
	}
}
