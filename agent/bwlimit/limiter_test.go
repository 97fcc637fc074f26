package bwlimit

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that only sleeps move, shared by goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestRateOnAClock moves 20 MiB each way through a 4 MiB/s up, 1 MiB/s
// down limit in reads and writes of many sizes, on a clock only the
// limiter's waits advance: the time taken is the limit's to within 15 %
// (here, to within the 100 ms burst).
func TestRateOnAClock(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.Local)}
	l := New(mustParse(t, "4M:1M"))
	l.now, l.sleep = clock.now, clock.sleep
	const total = 20 << 20
	for _, dir := range []struct {
		name string
		b    *bucket
		rate func(Rates) int64
		want float64
	}{{"up", &l.up, func(r Rates) int64 { return r.Up }, 5}, {"down", &l.down, func(r Rates) int64 { return r.Down }, 20}} {
		start := clock.now()
		for sent, i := 0, 0; sent < total; i++ {
			n := min(1+i*7919%(64<<10), total-sent) // sizes from 1 byte to 64 KiB
			l.wait(dir.b, dir.rate, n)
			sent += n
		}
		got := clock.now().Sub(start).Seconds()
		if got < dir.want*0.85 || got > dir.want*1.15 {
			t.Errorf("%s: 20 MiB took %.2f s, want %.0f s ± 15 %%", dir.name, got, dir.want)
		}
	}
}

// TestTimetableSwitches: at the timetable's change the new rate applies.
func TestTimetableSwitches(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 2, 7, 59, 0, 0, time.Local)}
	l := New(mustParse(t, "08:00,1M 19:00,off"))
	l.now, l.sleep = clock.now, clock.sleep
	start := clock.now()
	l.wait(&l.up, func(r Rates) int64 { return r.Up }, 100<<20) // off: no wait
	if clock.now() != start {
		t.Fatalf("waited %v while the limit was off", clock.now().Sub(start))
	}
	clock.sleep(time.Minute) // 08:00
	start = clock.now()
	for range 32 {
		l.wait(&l.up, func(r Rates) int64 { return r.Up }, 32<<10)
	}
	if got := clock.now().Sub(start).Seconds(); got < 0.85 || got > 1.15 {
		t.Errorf("1 MiB at 08:00 took %.2f s, want 1 s", got)
	}
}

// TestSharedByConnections: two real TCP connections through one Limiter
// share its rate. Only the lower bound is checked strictly (a loaded
// machine can only make it slower); the upper bound is generous.
func TestSharedByConnections(t *testing.T) {
	const rate, each = 1 << 20, 768 << 10 // 1 MiB/s, two connections of 768 KiB: 1.5 s
	l := New(mustParse(t, "1M"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			if _, err := l.Wrap(c).Write(make([]byte, each)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	want := float64(2*each)/rate - burstTime.Seconds()
	t.Logf("2 x 768 KiB through 1 MiB/s: %.2f s (%.0f KiB/s)", el, float64(2*each)/el/1024)
	if el < want*0.85 || el > want*10 {
		t.Errorf("took %.2f s, want about %.2f s (the two connections share the limit)", el, want)
	}
}

// BenchmarkLimitedWrite measures the rate a 4 MiB/s limit lets through a
// real TCP connection, as the metric "ratio" (measured / limit).
func BenchmarkLimitedWrite(b *testing.B) {
	l := New(mustParse(b, "4M"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	w := l.Wrap(c)
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		w.Write(buf)
	}
	b.ReportMetric(float64(b.N*len(buf))/time.Since(start).Seconds()/(4<<20), "ratio")
}
