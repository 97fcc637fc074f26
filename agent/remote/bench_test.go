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
	b.ReportAllocs()
	b.SetBytes(files * 4096)
	b.ResetTimer()
	for i := range b.N {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n := next.Add(1) - 1
					if n >= files {
						return
					}
					remote := fmt.Sprintf("/bench%d/d%d/f%d", i, n%20, n)
					if _, err := p.Upload(ctx, src, remote, nil); err != nil {
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
