package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
)

// fakeClock is a settable clock for walkCache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testPool(t testing.TB, s *e2eServer, conns int) *remote.Pool {
	t.Helper()
	p, err := remote.NewPool(remote.Config{Address: s.Addr, User: "agent", Password: e2ePassword, Connections: conns},
		slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// entriesOf returns a walk's result as remote.Entry values, to compare
// with remote.Pool.Walk's.
func entriesOf(m map[string]remoteFacts) map[string]remote.Entry {
	out := make(map[string]remote.Entry, len(m))
	for k, f := range m {
		out[k] = f.entry(k)
	}
	return out
}

func sameListing(a, b map[string]remote.Entry) []string {
	var d []string
	for k, v := range a {
		w, ok := b[k]
		if !ok || v.Dir != w.Dir || v.Size != w.Size || !v.ModTime.Equal(w.ModTime) || v.ID != w.ID {
			d = append(d, fmt.Sprintf("%s: %+v vs %+v", k, v, w))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k+": missing from the cached walk")
		}
	}
	return d
}

func TestWalkCacheMatchesAFullWalk(t *testing.T) {
	s := startE2EServer(t)
	root := filepath.Join(s.Home, "remote")
	for i := range 4 {
		for j := range 3 {
			putFile(t, filepath.Join(root, fmt.Sprintf("d%d/e%d/f.txt", i, j)), "x")
		}
	}
	putFile(t, filepath.Join(root, "top.txt"), "top")
	p := testPool(t, s, 3)
	ctx := context.Background()
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	c := &walkCache{now: clock.now}
	dirs := 1 + 4 + 4*3
	skipNothing := func(string, remote.Entry) bool { return false }

	var relisted int // directories listed afresh by rule, so many subdirectories
	var last map[string]remoteFacts
	check := func(step string) {
		t.Helper()
		got, err := c.walk(ctx, p, "/remote", 3, skipNothing, nil, last)
		if err != nil {
			t.Fatalf("%s: cached walk: %v", step, err)
		}
		last = got
		want, err := p.Walk(ctx, "/remote", nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameListing(entriesOf(got), want); len(d) > 0 {
			t.Fatalf("%s: cached walk differs from a full walk:\n%s", step, strings.Join(d, "\n"))
		}
		relisted = manySubdirs(want)
		clock.advance(2 * listingSettle)
		// Mutations below must land in another clock tick of the server's
		// disk than the listing before them.
		time.Sleep(30 * time.Millisecond)
	}
	check("first walk")
	if c.listed != dirs || c.reused != 0 {
		t.Fatalf("first walk listed %d, reused %d; want %d listed", c.listed, c.reused, dirs)
	}
	check("second walk confirms")
	check("third walk re-uses")
	if c.listed != relisted || c.reused != dirs-relisted {
		t.Fatalf("unchanged tree: listed %d, reused %d; want %d listed (with %d+ subdirectories), the rest re-used",
			c.listed, c.reused, relisted, relistSubdirs)
	}

	// Every kind of change through the server shows, deep in the tree too.
	ftpPut(t, s.Addr, "agent", e2ePassword, "/remote/d1/e2/new.txt", "new")
	check("new file deep down")
	ftpPut(t, s.Addr, "agent", e2ePassword, "/remote/d2/e0/f.txt", "y") // same size, new content
	check("same-size rewrite")
	pc := testPool(t, s, 1)
	if err := pc.Rename(ctx, "/remote/d0/e0/f.txt", "/remote/d3/e1/moved.txt"); err != nil {
		t.Fatal(err)
	}
	check("rename across directories")
	if err := pc.Delete(ctx, "/remote/top.txt"); err != nil {
		t.Fatal(err)
	}
	check("delete at the top")
	if err := pc.RemoveDir(ctx, "/remote/d3", true); err != nil {
		t.Fatal(err)
	}
	if err := pc.MkdirAll(ctx, "/remote/d3/again"); err != nil {
		t.Fatal(err)
	}
	check("directory replaced")
	check("changed directories confirmed")
	check("settled")
	if c.listed != relisted {
		t.Fatalf("after the changes settled, %d directories were listed again, want %d", c.listed, relisted)
	}

	// A previous result that no longer says what the server listed (a
	// record of the agent's own change gone wrong, say) is listed again
	// where it differs.
	e := last["d0/e1/f.txt"]
	e.Size = 12345
	last["d0/e1/f.txt"] = e
	last["d2/e2/ghost.txt"] = factsOf(remote.Entry{Name: "ghost.txt", Size: 1})
	last["gone/ghost.txt"] = factsOf(remote.Entry{Name: "ghost.txt", Size: 1})
	check("previous result drifted")
	if c.listed != relisted+2 {
		t.Fatalf("after the previous result drifted in 2 directories, %d were listed, want %d", c.listed, relisted+2)
	}
}

// manySubdirs counts the directories of a walk (the root too) that have
// relistSubdirs or more subdirectories.
func manySubdirs(walk map[string]remote.Entry) int {
	n := map[string]int{}
	for p, e := range walk {
		if e.Dir {
			n[parentOf(p)]++
		}
	}
	many := 0
	for _, k := range n {
		if k >= relistSubdirs {
			many++
		}
	}
	return many
}

func TestWalkCacheOffForOtherServers(t *testing.T) {
	for _, c := range []struct {
		caps remote.Caps
		want bool
	}{
		{remote.Caps{MLSD: true, Greeting: "syncserver ready."}, true},
		{remote.Caps{MLSD: false, Greeting: "syncserver ready."}, false},
		{remote.Caps{MLSD: true, Greeting: "(vsFTPd 3.0.3)"}, false},
		{remote.Caps{MLSD: true, Greeting: "ProFTPD Server (ProFTPD) [::1]"}, false},
	} {
		if got := cacheableServer(c.caps); got != c.want {
			t.Errorf("cacheableServer(%+v) = %v, want %v", c.caps, got, c.want)
		}
	}
}

// BenchmarkRemoteWalk100k lists a 100,000-file remote in 5,050 directories
// on syncserver over 4 connections: a full MLSD walk, and a poll of the
// unchanged tree through the walk cache.
func BenchmarkRemoteWalk100k(b *testing.B) {
	s := startE2EServer(b)
	root := filepath.Join(s.Home, "remote")
	for i := range 50 {
		for j := range 100 {
			dir := filepath.Join(root, fmt.Sprintf("d%02d/s%03d", i, j))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for k := range 20 {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%02d.dat", k)), nil, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	p := testPool(b, s, 4)
	ctx := context.Background()
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, err := p.Walk(ctx, "/remote", nil)
			if err != nil || len(m) != 100_000+5_050 {
				b.Fatalf("walk: %d entries, %v", len(m), err)
			}
		}
	})
	b.Run("cached-unchanged", func(b *testing.B) {
		clock := &fakeClock{t: time.Unix(1e9, 0)}
		c := &walkCache{now: clock.now}
		var m map[string]remoteFacts
		for range 2 { // list, then confirm
			var err error
			if m, err = c.walk(ctx, p, "/remote", 4, nil, nil, m); err != nil {
				b.Fatal(err)
			}
			clock.advance(2 * listingSettle)
		}
		b.ReportAllocs()
		for b.Loop() {
			var err error
			m, err = c.walk(ctx, p, "/remote", 4, nil, nil, m)
			if err != nil || len(m) != 100_000+5_050 || c.listed != 51 {
				b.Fatalf("walk: %d entries, %d listed, %v", len(m), c.listed, err)
			}
		}
	})
}
