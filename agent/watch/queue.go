package watch

import (
	"sync"

	"github.com/fsnotify/fsnotify"
)

// defaultQueueLimit bounds the events buffered between fsnotify and the event
// loop. Past it, events are dropped and a rescan is requested, as for a
// kernel queue overflow.
const defaultQueueLimit = 1 << 16

// item is one event or one error from fsnotify.
type item struct {
	ev  fsnotify.Event
	err error
}

// queue decouples fsnotify's reader from the event loop. It is needed for
// correctness, not only speed: on Windows, fsnotify's Add and Remove are
// served by the same goroutine that delivers events, so an event loop that
// calls Add while fsnotify waits to hand it an event would deadlock. The pump
// goroutine always drains fsnotify; the loop takes everything queued at once.
//
// push and take are safe for concurrent use.
type queue struct {
	mu       sync.Mutex
	items    []item
	limit    int
	overflow bool

	ready chan struct{} // holds a token while items or overflow are pending
	done  chan struct{} // closed when the pump has stopped
}

func newQueue(limit int) *queue {
	if limit <= 0 {
		limit = defaultQueueLimit
	}
	return &queue{limit: limit, ready: make(chan struct{}, 1), done: make(chan struct{})}
}

func (q *queue) push(it item) {
	q.mu.Lock()
	if len(q.items) >= q.limit {
		q.overflow = true
	} else {
		q.items = append(q.items, it)
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take returns everything queued and whether items were dropped since the
// last take. dst is reused as the next buffer, so the caller must be done
// with the previous result.
func (q *queue) take(dst []item) ([]item, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out, overflow := q.items, q.overflow
	q.items, q.overflow = dst[:0], false
	return out, overflow
}

// pump moves fsnotify's events and errors into q until both channels are
// closed (by fsnotify's Close). A non-nil gate delays the start until it is
// closed or stop is; tests use it to let the kernel queue overflow for real.
func (q *queue) pump(events <-chan fsnotify.Event, errs <-chan error, gate, stop <-chan struct{}) {
	defer close(q.done)
	if gate != nil {
		select {
		case <-gate:
		case <-stop:
		}
	}
	for events != nil || errs != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			q.push(item{ev: ev})
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if err != nil {
				q.push(item{err: err})
			}
		}
	}
}
