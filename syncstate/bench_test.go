package syncstate

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func benchEntry(i int) Entry {
	p := fmt.Sprintf("dir%03d/sub/file%06d.txt", i%500, i)
	now := time.Unix(1700000000, int64(i)).UTC()
	return Entry{
		Path: p, Size: int64(i) * 100, MTime: now, Hash: sha256.Sum256([]byte(p)),
		RemoteSize: int64(i) * 100, RemoteMTime: now.Truncate(time.Second), RemoteID: fmt.Sprintf("801g%x", i),
	}
}

func benchOpen(b *testing.B) *DB {
	b.Helper()
	db, err := Open(filepath.Join(b.TempDir(), "state.db"), Options{FlushInterval: time.Hour, MaxBatch: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkPutFlush1000 is one batch as the agent makes it: 1000 Puts,
// then one commit with a real fsync.
func BenchmarkPutFlush1000(b *testing.B) {
	db := benchOpen(b)
	es := make([]Entry, 1000)
	for i := range es {
		es[i] = benchEntry(i)
	}
	b.ReportAllocs()
	for n := 0; b.Loop(); n++ {
		for i := range es {
			es[i].Size = int64(n) // a new value each round
			if err := db.Put("f", es[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := db.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadFolder100k is the start-up load of a 100,000-file folder.
func BenchmarkLoadFolder100k(b *testing.B) {
	db := benchOpen(b)
	for i := range 100_000 {
		if err := db.Put("f", benchEntry(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m, err := db.Folder("f")
		if err != nil {
			b.Fatal(err)
		}
		if len(m) != 100_000 {
			b.Fatalf("%d entries", len(m))
		}
	}
}

// BenchmarkForEach100k walks the same folder in path order.
func BenchmarkForEach100k(b *testing.B) {
	db := benchOpen(b)
	for i := range 100_000 {
		if err := db.Put("f", benchEntry(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := db.ForEach("f", func(Entry) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 100_000 {
			b.Fatalf("%d entries", n)
		}
	}
}
