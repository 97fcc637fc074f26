package remote

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchmarkSmallUploads uploads 2,000 files of 4 KiB through a pool of
// conns connections, as many at once as the pool allows; one iteration is
// the whole batch.
func benchmarkSmallUploads(b *testing.B, conns int) {
	ts := startServer(b, serverConfig(b))
	p := newPool(b, ts.Addr, func(c *Config) { c.Connections = conns })
	ctx := testCtx(b)
	const files = 2000
	src := filepath.Join(b.TempDir(), "small")
	writeFile(b, src, randomBytes(b, 4096), time.Time{})
	runSmallFiles(b, conns, 1, files, func(i, n, _ int) error {
		_, err := p.Upload(ctx, src, fmt.Sprintf("/bench%d/d%d/f%d", i, n%20, n), nil)
		return err
	})
}

// runSmallFiles runs b.N rounds of files small uploads, conns goroutines
// at a time, each taking per files at once: up(round, first, end).
func runSmallFiles(b *testing.B, conns, per, files int, up func(i, n, end int) error) {
	b.ReportAllocs()
	b.SetBytes(int64(files) * 4096)
	b.ResetTimer()
	for i := range b.N {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n := int(next.Add(int64(per))) - per
					if n >= files {
						return
					}
					if err := up(i, n, min(n+per, files)); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.N*files)/b.Elapsed().Seconds(), "files/s")
}

func BenchmarkUpload2000x4KiBPool4(b *testing.B) { benchmarkSmallUploads(b, 4) }
func BenchmarkUpload2000x4KiBPool1(b *testing.B) { benchmarkSmallUploads(b, 1) }

// benchmarkBatchUploads is benchmarkSmallUploads through UploadBatch: the
// 2,000 files in batches of per files, conns batches at once.
func benchmarkBatchUploads(b *testing.B, conns, per int) {
	ts := startServer(b, serverConfig(b))
	p := newPool(b, ts.Addr, func(c *Config) { c.Connections = conns })
	ctx := testCtx(b)
	const files = 2000
	src := filepath.Join(b.TempDir(), "small")
	writeFile(b, src, randomBytes(b, 4096), time.Time{})
	for d := range 20 {
		if err := p.MkdirAll(ctx, fmt.Sprintf("/bench/d%d", d)); err != nil {
			b.Fatal(err)
		}
	}
	runSmallFiles(b, conns, per, files, func(i, n, end int) error {
		var batch []BatchFile
		for k := n; k < end; k++ {
			batch = append(batch, BatchFile{Local: src, Remote: fmt.Sprintf("/bench/d%d/f%d-%d", k%20, i, k)})
		}
		res, err := p.UploadBatch(ctx, batch)
		for _, r := range res {
			if err == nil {
				err = r.Err
			}
		}
		return err
	})
}

func BenchmarkUploadBatch2000x4KiBPool4(b *testing.B) { benchmarkBatchUploads(b, 4, 64) }
