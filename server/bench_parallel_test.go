package server

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// parallelClients and parallelSize shape BenchmarkParallelSTOR: as many
// clients as the benchmark harness's "100 × 10 MB uploads" scenario, each
// storing one file at the same moment.
const (
	parallelClients = 100
	parallelSize    = 10 << 20
)

// runParallelSTOR logs in parallelClients clients (not timed), then times
// all of them storing parallelSize bytes at once, and reports the aggregate
// rate. The files are deleted between iterations (not timed).
func runParallelSTOR(b *testing.B, addr, user, pass string) {
	data := benchData()[:parallelSize]
	conns := make([]*ftp.ServerConn, parallelClients)
	for i := range conns {
		conns[i] = benchDial(b, addr, user, pass)
	}
	b.SetBytes(parallelClients * parallelSize)
	b.ResetTimer()
	var total time.Duration
	for n := range b.N {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, parallelClients)
		for i, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = c.Stor(fmt.Sprintf("par-%d-%d.bin", n, i), bytes.NewReader(data))
			}()
		}
		wg.Wait()
		total += time.Since(start)
		b.StopTimer()
		for i, err := range errs {
			if err != nil {
				b.Fatalf("client %d: %v", i, err)
			}
			conns[i].Delete(fmt.Sprintf("par-%d-%d.bin", n, i))
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N)*parallelClients*parallelSize/1e6/total.Seconds(), "MB/s-aggregate")
}

// BenchmarkParallelSTOR stores parallelClients files of parallelSize bytes
// at once, with versions on as in the default configuration.
func BenchmarkParallelSTOR(b *testing.B) {
	cfg := testConfig(b)
	cfg.Limits.MaxConnections = 1000
	cfg.Limits.MaxPerIP = 1000
	ts := startServer(b, cfg, func(s *Server) { s.DataTimeout = time.Minute })
	runParallelSTOR(b, ts.Addr, "alice", testPassword)
}

// BenchmarkVsftpdParallelSTOR is BenchmarkParallelSTOR against vsftpd.
func BenchmarkVsftpdParallelSTOR(b *testing.B) {
	addr := startVsftpd(b)
	runParallelSTOR(b, addr, "ftpbench", vsftpdPassword)
}
