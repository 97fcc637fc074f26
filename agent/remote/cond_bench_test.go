package remote

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/ftpchild/ftpchildtest"
	"github.com/syncagent/syncagent/internal/proftpd/proftpdtest"
	"github.com/syncagent/syncagent/internal/pureftpd/pureftpdtest"
	"github.com/syncagent/syncagent/internal/vsftpd/vsftpdtest"
)

// BenchmarkCheckThenReplace measures, on servers without SITE EXPECT, how
// long a conditional replace leaves another client's write unnoticed:
// from sending the check (MLST, or SIZE and MDTM) to the reply of the
// RNTO that puts the upload in place. A write landing in that window is
// overwritten; the metric window-µs/op bounds it from above (it includes
// the round trips on both ends).
func BenchmarkCheckThenReplace(b *testing.B) {
	for _, peer := range []struct {
		name  string
		start func(testing.TB) *ftpchildtest.Server
	}{
		{"vsftpd", func(t testing.TB) *ftpchildtest.Server { return vsftpdtest.Start(t) }},
		{"pure-ftpd", func(t testing.TB) *ftpchildtest.Server { return pureftpdtest.Start(t) }},
		{"proftpd", func(t testing.TB) *ftpchildtest.Server { return proftpdtest.Start(t) }},
	} {
		b.Run(peer.name, func(b *testing.B) {
			srv := peer.start(b)
			p := newPool(b, srv.Addr, func(c *Config) { c.User, c.Password, c.Connections = srv.User, srv.Password, 1 })
			ctx := testCtx(b)
			data := bytes.Repeat([]byte("x"), 4096)
			var window time.Duration
			for i := 0; b.Loop(); i++ {
				err := p.do(ctx, func(s *slot) error {
					temp := fmt.Sprintf("/.syncagent-bench%d", i)
					if err := s.ctl.stor(temp, bytes.NewReader(data[:1+i%len(data)]), 0); err != nil {
						return err
					}
					want := &Expect{Absent: true}
					if e, ok, err := p.statIfAny(s, "/target", false); err != nil {
						return err
					} else if ok {
						want = &Expect{Size: e.Size, ModTime: e.ModTime, ID: e.ID}
					}
					start := time.Now()
					err := p.replaceIf(s, temp, "/target", want)
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
