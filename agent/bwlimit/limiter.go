package bwlimit

import (
	"net"
	"sync"
	"time"
)

// chunk is the most one read or write moves before it waits for tokens,
// so that connections sharing a bucket take turns.
const chunk = 32 << 10

// burstTime is how much unused bandwidth a bucket saves up: a connection
// idle for a while may go this much ahead of the rate, no more.
const burstTime = 100 * time.Millisecond

// Limiter shapes the data connections of one server to its Schedule, all
// of them together: one bucket for uploads (writes), one for downloads
// (reads). It is safe for concurrent use.
type Limiter struct {
	sched    Schedule
	now      func() time.Time
	sleep    func(time.Duration)
	up, down bucket
}

// New returns a Limiter for s, or nil when s never limits anything (a nil
// *Limiter wraps nothing).
func New(s Schedule) *Limiter {
	if !s.Limited() {
		return nil
	}
	return &Limiter{sched: s, now: time.Now, sleep: time.Sleep}
}

// InForce describes the limit in force now, for the status page; "" for
// a nil Limiter.
func (l *Limiter) InForce() string {
	if l == nil {
		return ""
	}
	return l.sched.InForce(l.now())
}

// Wrap returns c with its reads (downloads) and writes (uploads) held to
// the limit; a nil Limiter returns c itself.
func (l *Limiter) Wrap(c net.Conn) net.Conn {
	if l == nil {
		return c
	}
	return &conn{Conn: c, l: l}
}

// wait takes n bytes from the bucket of one direction at the current
// rate, sleeping as long as that rate needs.
func (l *Limiter) wait(b *bucket, rate func(Rates) int64, n int) {
	now := l.now()
	if d := b.take(now, rate(l.sched.At(now)), n); d > 0 {
		l.sleep(d)
	}
}

// bucket is a token bucket that may go into debt: a caller takes what it
// needs at once and sleeps until the debt is paid, so the rate holds for
// any mix of sizes and callers.
type bucket struct {
	mu     sync.Mutex
	tokens float64 // bytes; negative: owed
	last   time.Time
	rate   int64 // the rate last used, to restart cleanly when it changes
}

// take removes n tokens at rate bytes/s (0: no limit) and returns how
// long the caller must wait for them.
func (b *bucket) take(now time.Time, rate int64, n int) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if rate <= 0 {
		b.rate = 0
		return 0
	}
	burst := float64(rate) * burstTime.Seconds()
	if b.rate != rate || b.last.IsZero() {
		b.rate, b.tokens, b.last = rate, min(b.tokens, burst), now
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.tokens+el*float64(rate), burst)
	}
	b.last = now
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / float64(rate) * float64(time.Second))
}

// conn is a net.Conn whose reads and writes wait for their Limiter.
type conn struct {
	net.Conn
	l *Limiter
}

func (c *conn) Read(p []byte) (int, error) {
	if len(p) > chunk {
		p = p[:chunk]
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.l.wait(&c.l.down, func(r Rates) int64 { return r.Down }, n)
	}
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		k := min(len(p), chunk)
		c.l.wait(&c.l.up, func(r Rates) int64 { return r.Up }, k)
		n, err := c.Conn.Write(p[:k])
		written += n
		if err != nil {
			return written, err
		}
		p = p[k:]
	}
	return written, nil
}
