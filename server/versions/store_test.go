package versions

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// base is a fixed instant, so names are predictable.
var base = time.Date(2026, 11, 23, 18, 30, 0, 123_000_000, time.UTC)

func openStore(t *testing.T, keep int, maxAge time.Duration) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), ".syncserver", "versions"), Options{Keep: keep, MaxAge: maxAge})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// put keeps content as a version of vpath that ended at at, the way ftpfs
// does: reserve, write under the slot's name, commit.
func put(t *testing.T, s *Store, home, vpath string, at time.Time, content string) string {
	t.Helper()
	sl, err := s.Reserve(home, vpath, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sl.Path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sl.Commit(); err != nil {
		t.Fatal(err)
	}
	return sl.Name
}

func names(vs []Version) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

func TestOpenRefusesKeepZero(t *testing.T) {
	if _, err := Open(t.TempDir(), Options{Keep: 0}); err == nil {
		t.Fatal("Open with Keep 0 succeeded")
	}
}

func TestNamesAreTimesAndUnique(t *testing.T) {
	s := openStore(t, 100, 0)
	want := []string{"20261123T183000.123Z", "20261123T183000.124Z", "20261123T183000.125Z"}
	for i, w := range want {
		// All three at the same instant: each takes the next millisecond.
		if got := put(t, s, "alice", "/docs/a.txt", base, string(rune('a'+i))); got != w {
			t.Errorf("version %d named %q, want %q", i, got, w)
		}
	}
	vs, err := s.List("alice", "/docs/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(vs); !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	if !vs[0].Time.Equal(base) || vs[0].Size != 1 {
		t.Errorf("first version = %+v", vs[0])
	}
}

func TestConcurrentReserveUnique(t *testing.T) {
	s := openStore(t, 1000, 0)
	const n = 40
	var wg sync.WaitGroup
	got := make([]string, n)
	for i := range n {
		wg.Go(func() {
			sl, err := s.Reserve("alice", "/f", base)
			if err != nil {
				t.Error(err)
				return
			}
			os.WriteFile(sl.Path, []byte("x"), 0o644)
			got[i] = sl.Name
			sl.Commit()
		})
	}
	wg.Wait()
	slices.Sort(got)
	if len(slices.Compact(got)) != n {
		t.Fatalf("names not unique: %v", got)
	}
	if vs, _ := s.List("alice", "/f"); len(vs) != n {
		t.Fatalf("%d versions, want %d", len(vs), n)
	}
}

func TestCommitTrimsToKeep(t *testing.T) {
	s := openStore(t, 3, 0)
	for i := range 7 {
		put(t, s, "alice", "/a", base.Add(time.Duration(i)*time.Second), string(rune('0'+i)))
	}
	vs, err := s.List("alice", "/a")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 {
		t.Fatalf("%d versions kept, want 3: %v", len(vs), names(vs))
	}
	for i, v := range vs {
		f, err := s.Open("alice", "/a/"+v.Name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if want := string(rune('4' + i)); string(b) != want {
			t.Errorf("version %s holds %q, want %q", v.Name, b, want)
		}
	}
}

func TestCancelRemovesPlacedFile(t *testing.T) {
	s := openStore(t, 3, 0)
	sl, err := s.Reserve("alice", "/a", base)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(sl.Path, []byte("x"), 0o644)
	if err := sl.Cancel(); err != nil {
		t.Fatal(err)
	}
	if vs, _ := s.List("alice", "/a"); len(vs) != 0 {
		t.Fatalf("versions after Cancel: %v", names(vs))
	}
	// The name is free again.
	if sl2, err := s.Reserve("alice", "/a", base); err != nil || sl2.Name != sl.Name {
		t.Fatalf("Reserve after Cancel = %v, %v", sl2, err)
	} else {
		sl2.Cancel()
	}
}

func TestPruneByAgeAndEmptyDirs(t *testing.T) {
	s := openStore(t, 10, time.Hour)
	put(t, s, "alice", "/old/a", base, "old")
	put(t, s, "alice", "/mixed", base, "old")
	put(t, s, "alice", "/mixed", base.Add(50*time.Minute), "new")
	put(t, s, "bob", "/deep/er/b", base, "old")
	n, err := s.Prune(context.Background(), base.Add(61*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("Prune removed %d, want 3", n)
	}
	if vs, _ := s.List("alice", "/mixed"); len(vs) != 1 || !vs[0].Time.Equal(base.Add(50*time.Minute)) {
		t.Errorf("mixed keeps %v, want the newer one", names(vs))
	}
	for _, gone := range []string{"alice/old", "bob"} {
		if _, err := os.Lstat(filepath.Join(s.Dir(), gone)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there after prune: %v", gone, err)
		}
	}
}

func TestPruneLeavesOpenSlots(t *testing.T) {
	s := openStore(t, 10, time.Hour)
	sl, err := s.Reserve("alice", "/busy", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(context.Background(), base.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The empty version directory of an open slot survives, so the caller
	// can still place its file.
	if err := os.WriteFile(sl.Path, []byte("x"), 0o644); err != nil {
		t.Fatalf("slot directory pruned under an open slot: %v", err)
	}
	if err := sl.Commit(); err != nil {
		t.Fatal(err)
	}
	if vs, _ := s.List("alice", "/busy"); len(vs) != 1 {
		t.Fatalf("versions = %v", names(vs))
	}
}

func TestPruneTrimsLoweredKeep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v")
	s, _ := Open(dir, Options{Keep: 5})
	for i := range 5 {
		put(t, s, "alice", "/a", base.Add(time.Duration(i)*time.Second), "x")
	}
	s.Close()
	s, err := Open(dir, Options{Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Prune(context.Background(), base); err != nil {
		t.Fatal(err)
	}
	if vs, _ := s.List("alice", "/a"); len(vs) != 2 {
		t.Fatalf("after lowering keep: %v", names(vs))
	}
}

func TestPruneStopsOnCancel(t *testing.T) {
	s := openStore(t, 10, time.Hour)
	put(t, s, "alice", "/a", base, "x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Prune(ctx, base.Add(2*time.Hour)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Prune on a cancelled context = %v", err)
	}
}

func TestRunPrunesInBackground(t *testing.T) {
	s := openStore(t, 10, time.Millisecond)
	put(t, s, "alice", "/a", time.Now().Add(-time.Hour), "x")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx, 5*time.Millisecond, nil); close(done) }()
	defer func() { cancel(); <-done }()
	for range 2000 {
		if vs, _ := s.List("alice", "/a"); len(vs) == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("Run never pruned the old version")
}

func TestReadView(t *testing.T) {
	s := openStore(t, 10, 0)
	// A home without versions is an empty directory at "/".
	fi, err := s.Stat("carol", "/")
	if err != nil || !fi.IsDir() {
		t.Fatalf("Stat(carol, /) = %v, %v", fi, err)
	}
	if list, err := s.ReadDir("carol", "/"); err != nil || len(list) != 0 {
		t.Fatalf("ReadDir(carol, /) = %v, %v", list, err)
	}
	if _, err := s.Stat("carol", "/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat(carol, /x) = %v", err)
	}
	name := put(t, s, "alice", "/docs/a.txt", base, "old")
	list, err := s.ReadDir("alice", "/docs")
	if err != nil || len(list) != 1 || list[0].Name() != "a.txt" || !list[0].IsDir() {
		t.Fatalf("ReadDir(/docs) = %v, %v", list, err)
	}
	if _, err := s.Open("alice", "/docs/a.txt"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Open of a version directory = %v", err)
	}
	f, err := s.Open("alice", "/docs/a.txt/"+name)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	// Homes never see each other's versions, and paths never leave the store.
	for _, bad := range [][2]string{{"bob", "/docs/a.txt/" + name}, {"../x", "/"}, {".", "/alice/docs/a.txt/" + name}, {"alice", "docs"}} {
		if _, err := s.Open(bad[0], bad[1]); err == nil {
			t.Errorf("Open(%q, %q) succeeded", bad[0], bad[1])
		}
	}
	if _, err := s.Reserve("alice", "/", base); !errors.Is(err, ErrInvalidPath) {
		t.Errorf("Reserve of the home itself = %v", err)
	}
}
