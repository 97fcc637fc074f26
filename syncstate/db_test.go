package syncstate

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openTest opens a fresh state file in a temporary directory. A long
// FlushInterval keeps the background flusher out of the way unless a test
// asks for it.
func openTest(t *testing.T, opt Options) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "state.db")
	if opt.FlushInterval == 0 {
		opt.FlushInterval = time.Hour
	}
	db, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	// These tests are about logic, not durability (the crash tests use
	// real fsyncs), and fsync is slow on a shared test machine.
	db.bolt.NoSync = true
	t.Cleanup(func() { db.Close() })
	return db, path
}

func entry(p string, size int64) Entry {
	return Entry{Path: p, Size: size, MTime: time.Unix(1700000000, size).UTC(), Hash: [32]byte{byte(size)}, RemoteSize: size}
}

func mustPut(t *testing.T, db *DB, folder string, es ...Entry) {
	t.Helper()
	for _, e := range es {
		if err := db.Put(folder, e); err != nil {
			t.Fatal(err)
		}
	}
}

// paths returns the paths ForEach yields, checking Folder agrees.
func paths(t *testing.T, db *DB, folder string) []string {
	t.Helper()
	var got []string
	if err := db.ForEach(folder, func(e Entry) error {
		got = append(got, e.Path)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	m, err := db.Folder(folder)
	if err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(m)); !slices.Equal(keys, got) {
		t.Fatalf("Folder keys %q, ForEach paths %q", keys, got)
	}
	return got
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	db, path := openTest(t, Options{})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o700 | os.ModeDir, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
}

func TestReadYourWrites(t *testing.T) {
	db, _ := openTest(t, Options{})
	mustPut(t, db, "f", entry("a/b.txt", 1))
	e, ok, err := get(db, "f", "a/b.txt")
	if err != nil || !ok || !e.Equal(entry("a/b.txt", 1)) {
		t.Fatalf("Get pending = %+v %v %v", e, ok, err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, "f", entry("a/b.txt", 2)) // pending over stored
	if e, _, _ := get(db, "f", "a/b.txt"); e.Size != 2 {
		t.Errorf("Get = size %d, want the pending 2", e.Size)
	}
	if _, ok, _ := get(db, "g", "a/b.txt"); ok {
		t.Error("folders are not separate")
	}
	if _, ok, _ := get(db, "f", "nope"); ok {
		t.Error("Get found a missing path")
	}
}

func TestDeleteSubtree(t *testing.T) {
	all := []string{"a", "a.txt", "a/b", "a/b/c", "ab", "b", "b/a"}
	for _, flushBetween := range []bool{false, true} {
		t.Run(fmt.Sprint("flushed=", flushBetween), func(t *testing.T) {
			db, _ := openTest(t, Options{})
			for i, p := range all {
				mustPut(t, db, "f", entry(p, int64(i)))
			}
			if flushBetween {
				if err := db.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Delete("f", "a"); err != nil {
				t.Fatal(err)
			}
			want := []string{"a.txt", "ab", "b", "b/a"}
			if got := paths(t, db, "f"); !slices.Equal(got, want) {
				t.Fatalf("pending: got %q, want %q", got, want)
			}
			// A put after the delete survives it, in memory and on disk.
			mustPut(t, db, "f", entry("a/new", 9))
			want = []string{"a.txt", "a/new", "ab", "b", "b/a"}
			if got := paths(t, db, "f"); !slices.Equal(got, want) {
				t.Fatalf("pending: got %q, want %q", got, want)
			}
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := paths(t, db, "f"); !slices.Equal(got, want) {
				t.Fatalf("flushed: got %q, want %q", got, want)
			}
		})
	}
}

func TestDropFolder(t *testing.T) {
	db, _ := openTest(t, Options{})
	mustPut(t, db, "f", entry("x", 1), entry("y", 2))
	mustPut(t, db, "g", entry("x", 3))
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.DropFolder("f"); err != nil {
		t.Fatal(err)
	}
	if got := paths(t, db, "f"); len(got) != 0 {
		t.Fatalf("dropped folder still has %q", got)
	}
	if fs, _ := db.Folders(); !slices.Equal(fs, []string{"g"}) {
		t.Errorf("Folders = %q, want [g]", fs)
	}
	mustPut(t, db, "f", entry("z", 4))
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := paths(t, db, "f"); !slices.Equal(got, []string{"z"}) {
		t.Fatalf("after drop and put: %q", got)
	}
	if got := paths(t, db, "g"); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("other folder: %q", got)
	}
	if fs, _ := db.Folders(); !slices.Equal(fs, []string{"f", "g"}) {
		t.Errorf("Folders = %q, want [f g]", fs)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	db, path := openTest(t, Options{})
	mustPut(t, db, "f", entry("a", 1), Entry{Path: "d", Dir: true})
	if err := db.SetMeta("caps", "MLSD HASH"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // Close flushes
		t.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if e, ok, err := get(db, "f", "a"); err != nil || !ok || !e.Equal(entry("a", 1)) {
		t.Errorf("Get after reopen = %+v %v %v", e, ok, err)
	}
	if e, ok, _ := get(db, "f", "d"); !ok || !e.Dir {
		t.Errorf("dir after reopen = %+v %v", e, ok)
	}
	if v, ok, err := db.Meta("caps"); err != nil || !ok || v != "MLSD HASH" {
		t.Errorf("Meta = %q %v %v", v, ok, err)
	}
	if _, ok, _ := db.Meta("none"); ok {
		t.Error("Meta found a missing key")
	}
}

func TestBackgroundFlush(t *testing.T) {
	db, path := openTest(t, Options{FlushInterval: time.Millisecond})
	mustPut(t, db, "f", entry("a", 1))
	// Wait, boundedly, for the flusher; then a read-only look at the
	// file itself (not through db's pending set) must see the record.
	for i := 0; ; i++ {
		db.mu.RLock()
		idle := db.pending.empty() && db.flushing == nil
		db.mu.RUnlock()
		if idle {
			break
		}
		if i == 1000 {
			t.Fatal("background flush did not happen in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, ok, _ := get(ro, "f", "a"); !ok {
		t.Error("record not on disk")
	}
}

func TestFullBatchCommits(t *testing.T) {
	db, _ := openTest(t, Options{MaxBatch: 10})
	for i := range 25 {
		mustPut(t, db, "f", entry(fmt.Sprintf("p%02d", i), int64(i)))
	}
	db.mu.RLock()
	n := db.pending.ops
	db.mu.RUnlock()
	if n != 5 {
		t.Errorf("%d writes pending after 25 puts with MaxBatch 10, want 5", n)
	}
	if got := paths(t, db, "f"); len(got) != 25 {
		t.Errorf("%d records, want 25", len(got))
	}
}

func TestReadOnly(t *testing.T) {
	db, path := openTest(t, Options{})
	mustPut(t, db, "f", entry("a", 1))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Put("f", entry("b", 2)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Put = %v, want ErrReadOnly", err)
	}
	if _, ok, _ := get(ro, "f", "a"); !ok {
		t.Error("Get on read-only DB missed a record")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.db"), Options{ReadOnly: true}); err == nil {
		t.Error("read-only Open of a missing file succeeded")
	}
}

func TestInvalidArguments(t *testing.T) {
	db, _ := openTest(t, Options{})
	if err := db.Put("f", entry("/abs", 1)); err == nil {
		t.Error("Put of an absolute path succeeded")
	}
	if err := db.Put("", entry("a", 1)); err == nil {
		t.Error("Put into an unnamed folder succeeded")
	}
	if err := db.Delete("f", "a/"); err == nil {
		t.Error("Delete of a path with a trailing slash succeeded")
	}
	if err := db.SetMeta("", "v"); err == nil {
		t.Error("SetMeta with an empty key succeeded")
	}
}

func TestClosedDB(t *testing.T) {
	db, _ := openTest(t, Options{})
	db.Close()
	if err := db.Put("f", entry("a", 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Put = %v", err)
	}
	if _, _, err := get(db, "f", "a"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get = %v", err)
	}
	if _, err := db.Folder("f"); !errors.Is(err, ErrClosed) {
		t.Errorf("Folder = %v", err)
	}
	if err := db.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush = %v", err)
	}
}

func TestForEachStopsAndMayWrite(t *testing.T) {
	db, _ := openTest(t, Options{MaxBatch: 100})
	for i := range 3000 { // several chunks, several commits
		mustPut(t, db, "f", entry(fmt.Sprintf("p%05d", i), int64(i)))
	}
	n := 0
	// fn writes to the DB, which commits full batches mid-iteration.
	err := db.ForEach("f", func(e Entry) error {
		n++
		return db.Put("f", Entry{Path: e.Path, Size: e.Size + 1})
	})
	if err != nil || n != 3000 {
		t.Fatalf("ForEach = %v after %d", err, n)
	}
	stop := errors.New("stop")
	n = 0
	if err := db.ForEach("f", func(Entry) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("ForEach = %v after %d, want stop after 1", err, n)
	}
	e, _, _ := get(db, "f", "p02999")
	if e.Size != 3000 {
		t.Errorf("size %d, want 3000", e.Size)
	}
}

func TestConcurrentUse(t *testing.T) {
	db, _ := openTest(t, Options{MaxBatch: 50, FlushInterval: time.Millisecond})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			folder := fmt.Sprint("f", g%2)
			for i := range 300 {
				p := fmt.Sprintf("g%d/p%03d", g, i)
				if err := db.Put(folder, entry(p, int64(i))); err != nil {
					t.Error(err)
					return
				}
				if e, ok, err := get(db, folder, p); err != nil || !ok || e.Size != int64(i) {
					t.Errorf("read-your-write %s: %+v %v %v", p, e, ok, err)
					return
				}
				if i%100 == 99 {
					if err := db.Delete(folder, fmt.Sprintf("g%d", g)); err != nil {
						t.Error(err)
						return
					}
					if _, err := db.Folder(folder); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	// Each goroutine deleted its tree after its 300th put, leaving nothing.
	for _, f := range []string{"f0", "f1"} {
		if got := paths(t, db, f); len(got) != 0 {
			t.Errorf("%s: %d records left, want 0", f, len(got))
		}
	}
}

// TestFailedCommitIsRetried breaks the file under the DB (its folders
// bucket vanishes) so that commits fail, then repairs it.
func TestFailedCommitIsRetried(t *testing.T) {
	db, _ := openTest(t, Options{
		MaxBatch: 2, FlushInterval: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	mustPut(t, db, "f", entry("a", 1))
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	setFolders := func(present bool) {
		t.Helper()
		if err := db.bolt.Update(func(tx *bolt.Tx) error {
			if present {
				_, err := tx.CreateBucket(bucketFolders)
				return err
			}
			return tx.DeleteBucket(bucketFolders)
		}); err != nil {
			t.Fatal(err)
		}
	}
	setFolders(false)
	mustPut(t, db, "f", entry("b", 2))
	if err := db.Delete("f", "a"); err != nil { // fills the batch: a commit fails here
		t.Fatal(err)
	}
	if err := db.Flush(); err == nil {
		t.Fatal("Flush succeeded without a folders bucket")
	}
	mustPut(t, db, "f", entry("c", 3), entry("d", 4)) // queued, not lost
	if got := paths(t, db, "f"); !slices.Equal(got, []string{"b", "c", "d"}) {
		t.Fatalf("while failing: %q", got)
	}
	setFolders(true)
	// The background flusher retries on its own; wait for it, boundedly.
	for i := 0; ; i++ {
		db.mu.RLock()
		done := db.pending.empty() && db.flushing == nil && !db.failing
		db.mu.RUnlock()
		if done {
			break
		}
		if i == 1000 {
			t.Fatal("no successful retry in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		if n := folderBucket(tx, "f").Stats().KeyN; n != 3 {
			return fmt.Errorf("%d records on disk, want 3", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// get returns one record of folder, read as the agent reads them (Folder,
// queued writes included).
func get(db *DB, folder, path string) (Entry, bool, error) {
	m, err := db.Folder(folder)
	if err != nil {
		return Entry{}, false, err
	}
	e, ok := m[path]
	return e, ok, nil
}
