//go:build linux

package ftpfs

import (
	"os"
	"sync"
)

// dirSyncs group-commits directory fsyncs across every FS of the process:
// the renames of concurrent uploads into one directory share one
// fsync(dir) instead of queueing one each behind the journal.
var dirSyncs = dirSyncGroup{dirs: make(map[fileKey]*dirSyncState)}

// dirSyncGroup holds the sync state of each directory being synced.
type dirSyncGroup struct {
	mu   sync.Mutex
	dirs map[fileKey]*dirSyncState
}

// dirSyncState is one directory's rounds. A round is an fsync of the
// directory; callers join the next round to start, never the running one
// (it may have begun before their change), so a round covers every change
// made before it started.
type dirSyncState struct {
	cond    sync.Cond
	users   int        // callers holding this state
	running *syncRound // the fsync in progress, nil if none
	next    *syncRound // the round new callers join, nil until one does
}

type syncRound struct {
	done bool
	err  error
}

// sync makes the directory dir (identified by key) durable, covering every
// change made to it before the call: it waits for the next round, running
// it itself (on its own descriptor) when no round is in progress. It
// returns that round's error. Safe for concurrent use.
func (g *dirSyncGroup) sync(key fileKey, dir *os.File) error {
	g.mu.Lock()
	d := g.dirs[key]
	if d == nil {
		d = &dirSyncState{}
		d.cond.L = &g.mu
		g.dirs[key] = d
	}
	d.users++
	if d.next == nil {
		d.next = &syncRound{}
	}
	r := d.next
	for !r.done {
		if d.running == nil {
			// r is the next round and nobody is syncing: lead it.
			d.running, d.next = r, nil
			g.mu.Unlock()
			err := dir.Sync()
			g.mu.Lock()
			r.done, r.err = true, err
			d.running = nil
			d.cond.Broadcast()
			break
		}
		d.cond.Wait()
	}
	if d.users--; d.users == 0 {
		delete(g.dirs, key)
	}
	g.mu.Unlock()
	return r.err
}
