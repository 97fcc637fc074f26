package watch

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkCreate2000 measures 2,000 files created at once in a watched
// directory until every one has been reported.
func BenchmarkCreate2000(b *testing.B) {
	const files = 2000
	w, err := New(b.TempDir(), Options{Debounce: 5 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(b.Context()) }()
	defer func() {
		w.Close()
		<-done
	}()

	b.ReportAllocs()
	batches := 0
	for i := 0; b.Loop(); i++ {
		want := make(map[string]bool, files)
		for j := range files {
			name := fmt.Sprintf("i%d-f%04d", i, j)
			want[name] = true
			if err := os.WriteFile(w.abs(name), []byte("x"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		timeout := time.After(time.Minute)
		for len(want) > 0 {
			select {
			case batch := <-w.Events():
				batches++
				for _, p := range batch.Paths {
					delete(want, p)
				}
			case <-timeout:
				b.Fatalf("%d files not reported", len(want))
			}
		}
	}
	b.ReportMetric(float64(batches)/float64(b.N), "batches/op")
}
