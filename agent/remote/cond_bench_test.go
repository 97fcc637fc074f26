package remote

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// BenchmarkCheckThenReplace measures, on servers without SITE EXPECT, how
// long a conditional replace leaves another client's write unnoticed:
// from sending the check (MLST, or SIZE and MDTM, in the write that
// verifies the temporary) to the reply of the RNTO that puts the upload in
// place. A write landing in that window is
// overwritten; the metric window-µs/op bounds it from above (it includes
// the round trips on both ends).
func BenchmarkCheckThenReplace(b *testing.B) {
	for _, peer := range peers {
		b.Run(peer.name, func(b *testing.B) {
			srv := peer.start(b)
			p := newPool(b, srv.Addr, func(c *Config) { c.User, c.Password, c.Connections = srv.User, srv.Password, 1 })
			ctx := testCtx(b)
			data := bytes.Repeat([]byte("x"), 4096)
			var window time.Duration
			for i := 0; b.Loop(); i++ {
				err := p.do(ctx, func(s *slot) error {
					temp := fmt.Sprintf("/.syncagent-bench%d", i)
					body := data[:1+i%len(data)]
					if err := s.ctl.stor(temp, bytes.NewReader(body), 0, int64(len(body))); err != nil {
						return err
					}
					want := &Expect{Absent: true}
					if e, ok, err := p.statIfAny(s, "/target", false); err != nil {
						return err
					} else if ok {
						want = &Expect{Size: e.Size, ModTime: e.ModTime, ID: e.ID}
					}
					f := &finishing{temp: temp, target: "/target", size: int64(len(body)), mtime: time.Now(), want: want}
					start := time.Now()
					err := firstErr(p.check(s, []*finishing{f}), f.err)
					if err == nil {
						err = firstErr(p.place(s, []*finishing{f}), f.err)
					}
					window += time.Since(start)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(window.Microseconds())/float64(b.N), "window-µs/op")
		})
	}
}
