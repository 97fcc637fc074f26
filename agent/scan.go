package agent

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/syncagent/syncagent/agent/ignore"
	"github.com/syncagent/syncagent/syncstate"
)

// errChanged reports a local file that changed while it was read; the path
// is looked at again later and never sent torn.
var errChanged = errors.New("file changed while it was read")

// errNotDir reports a folder whose path is not a directory.
var errNotDir = errors.New("not a directory")

// localEntry is what a scan found at one local path.
type localEntry struct {
	Dir   bool
	Size  int64
	MTime time.Time
}

// scanned is how a scan keeps what it found at one path: a localEntry
// with its time as seconds and nanoseconds, so that the map of a
// 100,000-path scan holds no pointers (a time.Time carries a *Location)
// and 24 bytes a value rather than 40.
type scanned struct {
	Size int64
	sec  int64
	nsec int32
	Dir  bool
}

func scannedOf(e localEntry) scanned {
	return scanned{Size: e.Size, sec: e.MTime.Unix(), nsec: int32(e.MTime.Nanosecond()), Dir: e.Dir}
}

// entry returns what was found as a localEntry (its time in the local
// zone, as os.FileInfo gives it).
func (s scanned) entry() localEntry {
	return localEntry{Dir: s.Dir, Size: s.Size, MTime: time.Unix(s.sec, int64(s.nsec))}
}

// scanResult is a local scan: the entries found, and the directories whose
// contents could not be read (nothing below them may be planned, since
// their children are unknown rather than gone).
type scanResult struct {
	Entries    map[string]scanned
	Unreadable map[string]error
	// Skipped maps the symlinks, FIFOs, sockets and devices found (not
	// ignored) to their kind: they are never synced.
	Skipped map[string]string
	Dirs    int // directories found, to size what a pass makes per directory
}

// scanWorkers is how many directories a scan reads at once: a folder of
// many small directories is bound by system calls, which spread over cores.
var scanWorkers = min(runtime.GOMAXPROCS(0), 4)

// scanLocal walks the folder under root (rel "" for all of it, or a
// subtree), skipping ignored paths, symlinks and special files. sizeHint
// is the number of entries expected (0 when unknown). A path known (the
// synced state, not modified during the scan) holds is keyed by known's
// copy, so the two maps share their path strings.
func scanLocal(root, rel string, ig *ignore.Matcher, sizeHint int, known map[string]syncstate.Entry) scanResult {
	res := scanResult{Entries: make(map[string]scanned, sizeHint), Unreadable: make(map[string]error), Skipped: make(map[string]string)}
	start := filepath.Join(root, filepath.FromSlash(rel))
	fi, err := os.Lstat(start)
	switch {
	case err != nil:
		if rel == "" || !errors.Is(err, fs.ErrNotExist) {
			res.Unreadable[rel] = err
		}
		return res
	case rel == "" && !fi.IsDir():
		// The folder's own path may be a symlink to its directory;
		// anything else is no folder, and reading it as an empty one
		// would delete the other side.
		if st, err := os.Stat(start); err != nil || !st.IsDir() {
			res.Unreadable[rel] = fmt.Errorf("%s: %w", start, errNotDir)
			return res
		}
	case !fi.IsDir():
		// A file in scope is one entry.
		switch {
		case ig.Match(rel, false):
		case fi.Mode().IsRegular():
			res.Entries[rel] = scannedOf(localEntry{Size: fi.Size(), MTime: fi.ModTime()})
		default:
			res.Skipped[rel] = specialKind(fi.Mode())
		}
		return res
	case rel != "":
		if ig.Match(rel, true) {
			return res
		}
		res.Entries[rel] = scannedOf(localEntry{Dir: true, MTime: fi.ModTime()})
		res.Dirs++
	}
	s := &scanner{root: root, ig: ig, known: known, res: &res}
	s.q.init(rel)
	var wg sync.WaitGroup
	for range max(scanWorkers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work()
		}()
	}
	wg.Wait()
	return res
}

// jobQueue hands jobs to a pool of workers until none is queued and none
// is being worked on (whose results could queue more), or until stopped.
// Workers also merge their results under its lock, mu, which guards
// whatever the caller's merge touches.
type jobQueue[J any] struct {
	mu      sync.Mutex
	cond    *sync.Cond
	jobs    []J
	active  int
	stopped bool
}

func (q *jobQueue[J]) init(first J) {
	q.cond = sync.NewCond(&q.mu)
	q.jobs = []J{first}
}

// take waits for a job and returns it, or false when the work is over.
func (q *jobQueue[J]) take() (J, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.jobs) == 0 && q.active > 0 && !q.stopped {
		q.cond.Wait()
	}
	if q.stopped || len(q.jobs) == 0 {
		q.cond.Broadcast()
		var zero J
		return zero, false
	}
	j := q.jobs[len(q.jobs)-1]
	q.jobs = q.jobs[:len(q.jobs)-1]
	q.active++
	return j, true
}

// finish ends a job taken from q: merge runs under mu, and may call
// pushLocked and stopLocked.
func (q *jobQueue[J]) finish(merge func()) {
	q.mu.Lock()
	q.active--
	merge()
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (q *jobQueue[J]) pushLocked(j J) { q.jobs = append(q.jobs, j) }

func (q *jobQueue[J]) stopLocked() { q.stopped = true }

// scanner is one scanLocal's shared state: the directories still to read
// and the result, both under q.mu.
type scanner struct {
	root  string
	ig    *ignore.Matcher
	known map[string]syncstate.Entry // read only
	q     jobQueue[string]
	res   *scanResult
}

// found is one entry read by a worker, added to the result with the rest
// of its directory under one lock.
type found struct {
	rel  string
	e    localEntry
	err  error
	skip string // the kind of a skipped entry
}

// dirBuf is a worker's reusable memory for reading directories.
type dirBuf struct {
	dirents []byte // raw directory entries (Linux)
	path    []byte // the path being looked up
}

// pathOf returns dir/name as a scan keys it: known's copy when known
// holds it, so that no string is made for a path already held.
func (s *scanner) pathOf(buf *dirBuf, dir string, name []byte) string {
	buf.path = append(buf.path[:0], dir...)
	if dir != "" {
		buf.path = append(buf.path, '/')
	}
	buf.path = append(buf.path, name...)
	if b, ok := s.known[string(buf.path)]; ok {
		return b.Path
	}
	return string(buf.path)
}

func (s *scanner) work() {
	var batch []found
	var buf dirBuf
	for {
		dir, ok := s.q.take()
		if !ok {
			return
		}
		batch = s.readDir(dir, batch[:0], &buf)
		s.q.finish(func() {
			for _, f := range batch {
				switch {
				case f.err != nil:
					s.res.Unreadable[f.rel] = f.err
				case f.skip != "":
					s.res.Skipped[f.rel] = f.skip
				default:
					s.res.Entries[f.rel] = scannedOf(f.e)
					if f.e.Dir {
						s.res.Dirs++
						s.q.pushLocked(f.rel)
					}
				}
			}
		})
	}
}

// statLocal looks at one path as a scan would.
func statLocal(root, rel string) (localEntry, bool, error) {
	fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return localEntry{}, false, nil
	}
	if err != nil {
		return localEntry{}, false, err
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return localEntry{}, false, nil
	}
	return localEntry{Dir: fi.IsDir(), Size: sizeOf(fi), MTime: fi.ModTime()}, true, nil
}

func sizeOf(fi fs.FileInfo) int64 {
	if fi.IsDir() {
		return 0
	}
	return fi.Size()
}

// hashFile returns the SHA-256 of a local file, failing with errChanged
// when its size or mtime moved while it was read.
func hashFile(p string) ([32]byte, localEntry, error) {
	var sum [32]byte
	f, err := os.Open(p)
	if err != nil {
		return sum, localEntry{}, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return sum, localEntry{}, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, localEntry{}, fmt.Errorf("hash %s: %w", p, err)
	}
	after, err := os.Stat(p)
	if err != nil {
		return sum, localEntry{}, err
	}
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return sum, localEntry{}, errChanged
	}
	copy(sum[:], h.Sum(nil))
	return sum, localEntry{Size: before.Size(), MTime: before.ModTime()}, nil
}

// joinRemote joins a folder's remote root and a relative path.
func joinRemote(root, rel string) string {
	if rel == "" {
		return root
	}
	return path.Join(root, rel)
}

// under reports whether p is dir or inside it ("" contains everything).
func under(p, dir string) bool {
	return dir == "" || p == dir || strings.HasPrefix(p, dir+"/")
}

// skip adds the entry dir/name, of a kind never synced, to out unless it
// is ignored.
func (s *scanner) skip(out []found, buf *dirBuf, dir string, name []byte, kind string) []found {
	r := s.pathOf(buf, dir, name)
	if s.ig.Match(r, false) {
		return out
	}
	return append(out, found{rel: r, skip: kind})
}
