// Package logthrottle decides when an error that comes back on every
// retry deserves another log line: the first time, then at growing
// intervals while it stays the same, and once more when it is over, so a
// server away for a day writes a few dozen lines, not one per retry.
//
// It decides only; the caller logs.
package logthrottle

import "time"

// Defaults for Throttle's intervals.
const (
	DefaultFirst = time.Minute
	DefaultMax   = time.Hour
)

// Throttle follows one recurring failure (one folder's passes, one
// server's connections). The zero value is ready to use. It is not safe
// for concurrent use: each retry loop keeps its own.
type Throttle struct {
	// First is how long after logging a failure the same failure is
	// logged again (0: DefaultFirst); each later interval doubles, up to
	// Max (0: DefaultMax).
	First, Max time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	failing  bool
	since    time.Time // the first failure of this run of failures
	msg      string    // the failure last logged
	next     time.Time // when the same failure is logged again
	interval time.Duration
	failures int // in this run of failures
	quiet    int // failures not logged since the last line
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Fail records a failure described by msg. It reports whether to log
// it, and how many failures went unlogged since the last line. A
// failure that differs from the last one logged is always logged.
func (t *Throttle) Fail(msg string) (log bool, unlogged int) {
	now := t.now()
	if !t.failing {
		t.failing, t.since, t.failures = true, now, 0
	}
	t.failures++
	if msg != t.msg || t.interval == 0 {
		t.interval = t.first()
	} else if now.Before(t.next) {
		t.quiet++
		return false, 0
	} else {
		t.interval = min(2*t.interval, t.max())
	}
	t.msg, t.next = msg, now.Add(t.interval)
	unlogged, t.quiet = t.quiet, 0
	return true, unlogged
}

// Recover records a success. When it ends a run of failures it returns
// true with how many failures there were and how long they lasted, for
// the line that says the trouble is over.
func (t *Throttle) Recover() (recovered bool, failures int, lasted time.Duration) {
	if !t.failing {
		return false, 0, 0
	}
	failures, lasted = t.failures, t.now().Sub(t.since)
	*t = Throttle{First: t.First, Max: t.Max, Now: t.Now}
	return true, failures, lasted
}

func (t *Throttle) first() time.Duration {
	if t.First > 0 {
		return t.First
	}
	return DefaultFirst
}

func (t *Throttle) max() time.Duration {
	if t.Max > 0 {
		return t.Max
	}
	return DefaultMax
}
