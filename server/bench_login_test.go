package server

import (
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// BenchmarkLoginFailTiming sends 10 parallel wrong passwords, each on its
// own connection, for a real user (cost 10), a real user whose hash has
// another cost (11), and an unknown name, and reports for each how long
// the slowest reply took and how far the replies spread. Failure replies
// are due a fixed delay after the PASS (LoginFailDelay, 200 ms here), so
// the three figures should match whatever the names' bcrypt costs.
func BenchmarkLoginFailTiming(b *testing.B) {
	cfg := testConfig(b)
	h10, _ := bcrypt.GenerateFromPassword([]byte(testPassword), 10)
	h11, _ := bcrypt.GenerateFromPassword([]byte(testPassword), 11)
	cfg.Users = []UserConfig{
		{Name: "alice", PasswordHash: string(h10), Home: "alice"},
		{Name: "carol", PasswordHash: string(h11), Home: "carol"},
	}
	cfg.Limits.MaxLoginFailures = 1 << 20
	ts := startServer(b, cfg, func(s *Server) { s.LoginFailDelay = 200 * time.Millisecond })
	const n = 10
	names := []string{"alice", "carol", "nosuchuser"}
	slowest := make([]time.Duration, len(names))
	spread := make([]time.Duration, len(names))
	for _, name := range names { // make the dummy hashes before timing
		c := dialCtrl(b, ts.Addr, "")
		c.must(331, "USER %s", name)
		c.must(530, "PASS wrong")
		c.conn.Close()
	}
	b.ResetTimer()
	for range b.N {
		for k, name := range names {
			conns := make([]*ctrl, n)
			for i := range conns {
				conns[i] = dialCtrl(b, ts.Addr, "")
				conns[i].must(331, "USER %s", name)
			}
			took := make([]time.Duration, n)
			var wg sync.WaitGroup
			for i, c := range conns {
				wg.Go(func() {
					start := time.Now()
					if code, _ := c.cmd("PASS wrong-%d", i); code != 530 {
						b.Errorf("PASS for %s: reply %d", name, code)
					}
					took[i] = time.Since(start)
				})
			}
			wg.Wait()
			lo, hi := took[0], took[0]
			for _, d := range took {
				lo, hi = min(lo, d), max(hi, d)
			}
			slowest[k] += hi
			spread[k] += hi - lo
			for _, c := range conns {
				c.conn.(*net.TCPConn).Close()
			}
		}
	}
	for k, name := range []string{"real-cost10", "real-cost11", "unknown"} {
		b.ReportMetric(float64(slowest[k].Milliseconds())/float64(b.N), "ms-slowest-"+name)
		b.ReportMetric(float64(spread[k].Milliseconds())/float64(b.N), "ms-spread-"+name)
	}
}
