package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkFullPassInSync makes full passes over a folder of 20,000 files
// in 1,000 directories already in sync with syncserver, as a running
// agent does on every poll, and reports the agent's live heap per file
// once a pass is done: the synced state, the remote listing and the walk
// cache, which a 100,000-file folder holds five times over. Profile it
// with -memprofile to see what holds the memory.
func BenchmarkFullPassInSync(b *testing.B) {
	const files, dirs = 20_000, 1_000
	s := startE2EServer(b)
	local := b.TempDir()
	for i := range files {
		d := filepath.Join(local, fmt.Sprintf("dir%04d", i%dirs))
		if i < dirs {
			if err := os.MkdirAll(d, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("file%06d.bin", i)), []byte(d), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	before := liveHeap()
	a, err := New(agentConfig(b, s, local, ModePush), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	if err := a.Sync(ctx, "", false, io.Discard); err != nil { // the initial push
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Sync(ctx, "", false, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(liveHeap()-before)/files, "live-B/file")
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
