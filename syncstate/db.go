package syncstate

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Defaults for the zero values of Options.
const (
	DefaultTimeout       = time.Second
	DefaultMaxBatch      = 1000
	DefaultFlushInterval = 100 * time.Millisecond
	DefaultMaxRetryDelay = 30 * time.Second
)

var (
	// ErrLocked is returned (wrapped, with the file name) by Open when
	// another process, or another DB in this process, holds the state file.
	ErrLocked = errors.New("in use by another syncagent (only one agent may use a state file)")
	// ErrClosed is returned by every method of a closed DB.
	ErrClosed = errors.New("state database is closed")
	// ErrReadOnly is returned by writes to a DB opened with ReadOnly.
	ErrReadOnly = errors.New("state database is open read-only")
)

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// Timeout is how long Open waits for the file lock before returning
	// ErrLocked. Zero means DefaultTimeout.
	Timeout time.Duration
	// ReadOnly opens the file with a shared lock and refuses writes. The
	// file must exist and be at the current schema.
	ReadOnly bool
	// MaxBatch is the number of queued writes that triggers a commit.
	// Zero means DefaultMaxBatch.
	MaxBatch int
	// FlushInterval is the longest a queued write waits before the
	// background commit. Zero means DefaultFlushInterval.
	FlushInterval time.Duration
	// MaxRetryDelay caps the back-off between retries of a failed
	// background commit (a full or failing disk). Zero means
	// DefaultMaxRetryDelay.
	MaxRetryDelay time.Duration
	// Logger receives background commit failures. Nil means slog.Default().
	Logger *slog.Logger
}

// DB is an open state file. All methods are safe for concurrent use by
// many goroutines.
//
// Writes (Put, Delete, DropFolder, SetMeta) are queued in memory and
// visible at once to every read of this DB. They reach the file in
// batches, each one bbolt transaction and one fsync: when MaxBatch writes
// are queued (the write that fills the batch commits it before
// returning), FlushInterval after a write, on Flush, and on Close. Batches
// commit in order, so after a crash the file holds the writes up to some
// point, in order, and nothing after it: a record is never newer than what
// was confirmed, only possibly older, which the agent treats as a path to
// re-check.
type DB struct {
	bolt     *bolt.DB
	path     string
	opt      Options
	log      *slog.Logger
	readOnly bool

	flushMu sync.Mutex // serialises commits, so batches land in order
	shut    bool       // bolt is closed; guarded by flushMu

	mu       sync.RWMutex // guards the fields below
	pending  *batch       // newest writes, not yet being committed
	flushing *batch       // the batch being committed, or nil
	failing  bool         // the last commit failed; writes leave retries to the flusher
	closed   bool

	kick chan struct{} // a write was queued; buffered 1
	done chan struct{} // closed by Close to stop the flusher
	wg   sync.WaitGroup
}

// Open opens the state file at path, creating it and its parent directory
// (mode 0700; the file is 0600) if missing, and upgrades its schema. It
// returns an error wrapping ErrLocked if the file stays locked by another
// DB for opt.Timeout, and a *SchemaError if a newer syncagent wrote it.
func Open(path string, opt Options) (*DB, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = DefaultMaxBatch
	}
	if opt.FlushInterval <= 0 {
		opt.FlushInterval = DefaultFlushInterval
	}
	if opt.MaxRetryDelay <= 0 {
		opt.MaxRetryDelay = DefaultMaxRetryDelay
	}
	lg := opt.Logger
	if lg == nil {
		lg = slog.Default()
	}
	if !opt.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("open state: %w", err)
		}
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      opt.Timeout,
		ReadOnly:     opt.ReadOnly,
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("state file %s is %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	if err := migrate(bdb, opt.ReadOnly); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	db := &DB{
		bolt:     bdb,
		path:     path,
		opt:      opt,
		log:      lg.With("state", path),
		readOnly: opt.ReadOnly,
		pending:  newBatch(),
		kick:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	if !opt.ReadOnly {
		db.wg.Add(1)
		go db.flusher()
	}
	return db, nil
}

// Path returns the file name given to Open.
func (db *DB) Path() string { return db.path }

// Close commits the queued writes, stops the background flusher and
// closes the file. If the final commit fails the file is still closed and
// the error returned; the lost writes are as if the process had crashed.
// Calling Close again returns ErrClosed.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	db.closed = true // no new writes from here on
	db.mu.Unlock()
	close(db.done)
	db.wg.Wait()
	// Holding flushMu to the end keeps a write that filled its batch just
	// before closed was set from committing to a closed bolt.
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	var errs []error
	if !db.readOnly {
		if err := db.flushLocked(0); err != nil {
			errs = append(errs, err)
		}
	}
	db.shut = true
	if err := db.bolt.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close state: %w", err))
	}
	return errors.Join(errs...)
}

// Flush commits every write queued before the call in one bbolt
// transaction (one fsync) and returns when it is on disk. If the commit
// fails the writes stay queued and a later flush retries them.
func (db *DB) Flush() error {
	db.mu.RLock()
	closed, ro := db.closed, db.readOnly
	db.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if ro {
		return nil
	}
	return db.flush(0)
}

// flush commits the pending batch if it holds at least atLeast writes.
func (db *DB) flush(atLeast int) error {
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	if db.shut {
		return ErrClosed
	}
	return db.flushLocked(atLeast)
}

// flushLocked is flush with flushMu held.
func (db *DB) flushLocked(atLeast int) error {
	db.mu.Lock()
	b := db.pending
	if b.empty() || b.ops < atLeast {
		db.mu.Unlock()
		return nil
	}
	db.pending = newBatch()
	db.flushing = b
	db.mu.Unlock()

	err := db.bolt.Update(b.apply)
	releaseMapped(db.bolt) // the pages the commit looked up

	db.mu.Lock()
	db.flushing = nil
	db.failing = err != nil
	if err != nil {
		db.pending = b.then(db.pending)
	}
	db.mu.Unlock()
	if err != nil {
		return fmt.Errorf("commit state: %w", err)
	}
	return nil
}

// flusher commits queued writes FlushInterval after the first one. It
// sleeps while nothing is queued, so an idle agent does not wake up. A
// failed commit is retried with doubling delays up to MaxRetryDelay.
func (db *DB) flusher() {
	defer db.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	delay := db.opt.FlushInterval
	for {
		select {
		case <-db.done:
			return
		case <-db.kick:
		}
		t.Reset(delay)
		select {
		case <-db.done:
			t.Stop()
			return
		case <-t.C:
		}
		if err := db.flush(0); err != nil {
			delay = min(2*delay, db.opt.MaxRetryDelay)
			db.log.Error("background commit failed; will retry", "err", err, "retry_in", delay)
			db.signal()
			continue
		}
		delay = db.opt.FlushInterval
	}
}

func (db *DB) signal() {
	select {
	case db.kick <- struct{}{}:
	default:
	}
}

// write queues fn's change to the pending batch, then commits the batch
// if it is full. A failed commit there is logged, not returned: the write
// itself is queued, and the flusher retries the commit with back-off.
func (db *DB) write(fn func(b *batch)) error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	if db.readOnly {
		db.mu.Unlock()
		return ErrReadOnly
	}
	fn(db.pending)
	full := db.pending.ops >= db.opt.MaxBatch && !db.failing
	db.mu.Unlock()
	if full {
		if err := db.flush(db.opt.MaxBatch); err != nil {
			db.log.Error("commit of full batch failed; will retry", "err", err)
		}
	}
	db.signal()
	return nil
}

// Put queues e as the synced state of e.Path in folder. Call it only once
// the remote side is confirmed (the upload renamed into place), so that a
// lost write can only leave an older record, never a newer one.
func (db *DB) Put(folder string, e Entry) error {
	if err := checkFolder(folder); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	if err := checkPath(e.Path); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	return db.write(func(b *batch) { b.put(folder, e) })
}

// Delete queues the removal of path and, if it is a directory, of
// everything below it: "a" removes "a" and "a/..." but not "ab". Call it
// only once the remote delete is done.
func (db *DB) Delete(folder, path string) error {
	if err := checkFolder(folder); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if err := checkPath(path); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return db.write(func(b *batch) { b.del(folder, path) })
}

// DropFolder queues the removal of every record of folder, for a folder
// taken out of the configuration.
func (db *DB) DropFolder(folder string) error {
	if err := checkFolder(folder); err != nil {
		return fmt.Errorf("drop folder: %w", err)
	}
	return db.write(func(b *batch) { b.drop(folder) })
}

// SetMeta queues a small key/value for the whole file, such as a cache of
// a server's capabilities. It is committed with the entries.
func (db *DB) SetMeta(key, value string) error {
	if key == "" || len(key) > maxKeySize {
		return fmt.Errorf("set meta: bad key %q", key)
	}
	return db.write(func(b *batch) { b.setMeta(key, value) })
}
