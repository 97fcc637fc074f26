package syncstate

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is the obvious implementation the DB must agree with: a map per
// folder, changed one operation at a time.
type model map[string]map[string]Entry

func (m model) put(f string, e Entry) {
	if m[f] == nil {
		m[f] = map[string]Entry{}
	}
	m[f][e.Path] = e
}

func (m model) del(f, p string) {
	for k := range m[f] {
		if under(k, p) {
			delete(m[f], k)
		}
	}
}

// randomOps drives db and m with the same n random operations over a
// small name space, so deletes hit subtrees and puts hit deleted paths.
// Flushes are among the operations only if flush is set.
func randomOps(t *testing.T, r *rand.Rand, db *DB, m model, n int, flush bool) {
	t.Helper()
	names := []string{"a", "b", "a/b", "a/c", "a/b/c", "a/b/d", "ab", "a.txt", "b/a", "c"}
	folders := []string{"f", "g"}
	for range n {
		f := folders[r.IntN(len(folders))]
		p := names[r.IntN(len(names))]
		var err error
		switch k := r.IntN(20); {
		case k < 11:
			e := entry(p, r.Int64N(1000))
			err = db.Put(f, e)
			m.put(f, e)
		case k < 17:
			err = db.Delete(f, p)
			m.del(f, p)
		case k < 18:
			err = db.DropFolder(f)
			delete(m, f)
		case flush:
			err = db.Flush()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkModel compares every way of reading db with m.
func checkModel(t *testing.T, db *DB, m model) {
	t.Helper()
	for _, f := range []string{"f", "g"} {
		got, err := db.Folder(f)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.EqualFunc(got, m[f], Entry.Equal) {
			t.Fatalf("Folder(%s) = %v, want %v", f, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(m[f])))
		}
		var seq []string
		if err := db.ForEach(f, func(e Entry) error {
			if !e.Equal(m[f][e.Path]) {
				t.Errorf("ForEach(%s) %s = %+v, want %+v", f, e.Path, e, m[f][e.Path])
			}
			seq = append(seq, e.Path)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if want := slices.Sorted(maps.Keys(m[f])); !slices.Equal(seq, want) {
			t.Fatalf("ForEach(%s) = %q, want %q", f, seq, want)
		}
		for p, want := range m[f] {
			if e, ok, err := get(db, f, p); err != nil || !ok || !e.Equal(want) {
				t.Fatalf("Get(%s, %s) = %+v %v %v", f, p, e, ok, err)
			}
		}
	}
}

func TestRandomAgainstModel(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 1))
			db, path := openTest(t, Options{MaxBatch: 1 + r.IntN(8)})
			m := model{}
			for range 10 {
				randomOps(t, r, db, m, 30, true)
				checkModel(t, db, m)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			checkModel(t, db, m)
		})
	}
}

// TestReadsDuringCommit checks the view a read gets while a batch is
// being committed: flushing under pending, over the file.
func TestReadsDuringCommit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for range 20 {
		db, _ := openTest(t, Options{})
		m := model{}
		randomOps(t, r, db, m, 40, true)
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
		randomOps(t, r, db, m, 20, true)
		// Freeze the middle layer as if its commit were in flight.
		db.mu.Lock()
		db.flushing, db.pending = db.pending, newBatch()
		db.mu.Unlock()
		randomOps(t, r, db, m, 20, false) // flushing is stuck
		checkModel(t, db, m)
		db.mu.Lock()
		db.pending, db.flushing = db.flushing.then(db.pending), nil
		db.mu.Unlock()
		checkModel(t, db, m)
		db.Close()
	}
}

// TestBatchThen checks that a failed batch put back in front of newer
// writes means the same as the two applied in turn.
func TestBatchThen(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		db, _ := openTest(t, Options{})
		m := model{}
		randomOps(t, r, db, m, 15, true)
		db.mu.Lock()
		older := db.pending
		db.pending = newBatch()
		db.mu.Unlock()
		randomOps(t, r, db, m, 15, false)
		db.mu.Lock()
		db.pending = older.then(db.pending)
		db.mu.Unlock()
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
		checkModel(t, db, m)
		db.Close()
	}
}
