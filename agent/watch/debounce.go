package watch

import (
	"slices"
	"time"
)

// rescanKey is the debouncer key of a pending "rescan everything" request.
// It cannot collide with a path: relative paths are never empty.
const rescanKey = ""

// debouncer tracks the paths that changed and not yet reported. It is driven
// by a single goroutine and needs no locking. One timer in the caller is
// enough: due returns the next deadline to arm it for.
type debouncer struct {
	quiet    time.Duration // report a path once it was quiet this long
	maxDelay time.Duration // report a path at the latest this long after its first event
	pending  map[string]pendingPath
}

// pendingPath is when a not yet reported path changed first and last.
type pendingPath struct {
	first, last time.Time
}

func newDebouncer(quiet, maxDelay time.Duration) *debouncer {
	return &debouncer{quiet: quiet, maxDelay: maxDelay, pending: make(map[string]pendingPath)}
}

// touch records a change of path at now.
func (d *debouncer) touch(path string, now time.Time) {
	p, ok := d.pending[path]
	if !ok {
		p.first = now
	}
	p.last = now
	d.pending[path] = p
}

// minWait is the shortest time from a first event to its report.
func (d *debouncer) minWait() time.Duration {
	return min(d.quiet, d.maxDelay)
}

func (d *debouncer) deadline(p pendingPath) time.Time {
	q := p.last.Add(d.quiet)
	if m := p.first.Add(d.maxDelay); m.Before(q) {
		return m
	}
	return q
}

// due removes the paths whose deadline is not after now, appends them to dst
// and returns it with the earliest deadline still pending (zero if none).
func (d *debouncer) due(now time.Time, dst []string) ([]string, time.Time) {
	var next time.Time
	for path, p := range d.pending {
		dl := d.deadline(p)
		if !dl.After(now) {
			dst = append(dst, path)
			delete(d.pending, path)
			continue
		}
		if next.IsZero() || dl.Before(next) {
			next = dl
		}
	}
	return dst, next
}

func (d *debouncer) len() int { return len(d.pending) }

// outbox holds what is due but not yet taken by the consumer, so a slow
// consumer never blocks the event loop: later paths merge into the same
// batch instead.
type outbox struct {
	paths  map[string]struct{}
	rescan bool
	cached *Batch // built lazily, dropped on every change
}

func newOutbox() *outbox {
	return &outbox{paths: make(map[string]struct{})}
}

func (o *outbox) add(path string) {
	if _, ok := o.paths[path]; !ok {
		o.paths[path] = struct{}{}
		o.cached = nil
	}
}

func (o *outbox) setRescan() {
	if !o.rescan {
		o.rescan = true
		o.cached = nil
	}
}

func (o *outbox) empty() bool { return len(o.paths) == 0 && !o.rescan }

// batch returns the pending batch: sorted and deduplicated paths.
func (o *outbox) batch() Batch {
	if o.cached == nil {
		b := Batch{Rescan: o.rescan}
		if len(o.paths) > 0 {
			b.Paths = make([]string, 0, len(o.paths))
			for p := range o.paths {
				b.Paths = append(b.Paths, p)
			}
			slices.Sort(b.Paths)
		}
		o.cached = &b
	}
	return *o.cached
}

// clear forgets what was delivered.
func (o *outbox) clear() {
	if len(o.paths) > 4096 {
		o.paths = make(map[string]struct{}) // let a burst's memory go
	} else {
		clear(o.paths)
	}
	o.rescan = false
	o.cached = nil
}
