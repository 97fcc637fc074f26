package ftpfs

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
)

// CreateMode says how Create treats an existing file.
type CreateMode int

const (
	// CreateTruncate replaces the file (STOR). With an offset (REST then
	// STOR) the new content starts as the first offset bytes of the old one.
	CreateTruncate CreateMode = iota
	// CreateAppend adds to the end of the file, or creates it (APPE).
	CreateAppend
	// CreateUnique stores under a name no file has yet (STOU): vpath itself
	// if free, else vpath.1, vpath.2, ...; if vpath is a directory, a name
	// inside it.
	CreateUnique
)

// uniqueBase is the name CreateUnique picks inside a directory.
const uniqueBase = "ftp-upload"

// maxUnique bounds the candidate names CreateUnique tries.
const maxUnique = 1000

// writebackChunk is how much an upload writes between two requests to the
// kernel to start writing its data to disk, so that Commit's fsync finds
// most of it there already.
const writebackChunk = 4 << 20

// copyBufSize is the buffer of the copy of an existing file's prefix
// (APPE, REST then STOR) into the temporary file.
const copyBufSize = 1 << 20

// Upload is a file being received. Data goes to a temporary file under the
// FS's temp directory; nothing appears under the real name until Commit,
// and Abort leaves any previous file untouched. An Upload is written (Write,
// or the file returned by File) by one goroutine; Commit and Abort may be
// called from any goroutine, and the first of them to run decides the
// outcome.
//
// Data written with Write is hashed (SHA-256) on its way to the file; when
// the FS has a DigestCache, Commit records the digest there so that HASH
// of the new file answers without reading it.
type Upload struct {
	fs      *FS
	file    *os.File
	tmpName string // base name in the temp directory
	mode    CreateMode

	// Owned by the writing goroutine.
	sum     hash.Hash // SHA-256 of the whole temporary file; nil: not tracked
	written int64     // bytes in the temporary file, all of them through sum
	flushed int64     // writeback was started for the bytes before this offset
	hashing bool      // counted in hashingUploads until finish

	mu       sync.Mutex
	name     string // final virtual path
	rel      string // final path relative to the home
	base     string // CreateUnique: the name candidates are derived from
	reserved bool   // rel is held in the reserved set
	done     bool
	expect   *Expect // SetExpect: required of the target at commit
}

// Create starts an upload to vpath. For CreateTruncate with offset > 0,
// the temporary file starts as a copy of the existing file's first offset
// bytes, positioned at its end; an offset beyond the existing size gives
// ErrBadOffset. For CreateAppend (offset ignored) the temporary file holds
// only the new bytes, which Commit adds to the end of the existing file
// in place: an append costs what it appends, and keeps no version (the
// old content is still the file's beginning). The parent directory must
// exist.
func (f *FS) Create(vpath string, mode CreateMode, offset int64) (*Upload, error) {
	clean, rel, err := f.mutating(vpath)
	if err != nil {
		return nil, pathErr("create", clean, err)
	}
	if offset < 0 || mode == CreateUnique && offset > 0 {
		return nil, pathErr("create", clean, ErrBadOffset)
	}
	u := &Upload{fs: f, mode: mode, name: clean, rel: rel}
	if mode == CreateUnique {
		err = u.pickUnique(0)
	} else {
		err = f.checkTarget(rel)
	}
	if err != nil {
		return nil, pathErr("create", u.name, err)
	}
	// An append's digest would need the whole file's: not hashed.
	if f.digests != nil && mode != CreateAppend && hashingUploads.Load() < int64(maxHashing()) && (f.hashUp == nil || f.hashUp()) {
		u.sum = sha256.New()
		u.hashing = true
		hashingUploads.Add(1)
	}
	if err := u.openTemp(offset); err != nil {
		if u.file != nil {
			u.file.Close()
			f.tmp.Remove(u.tmpName)
		}
		u.stopHashing()
		u.release()
		return nil, pathErr("create", u.name, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		u.file.Close()
		f.tmp.Remove(u.tmpName)
		u.stopHashing()
		u.release()
		return nil, pathErr("create", u.name, os.ErrClosed)
	}
	f.uploads[u] = struct{}{}
	return u, nil
}

// checkParent checks that rel's parent directory exists inside the home.
func (f *FS) checkParent(rel string) error {
	fi, err := f.home.Stat(filepath.Dir(rel))
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return ErrNotDir
	}
	return nil
}

// pickUnique chooses and reserves a free name for a CreateUnique upload,
// trying candidates from index start on.
func (u *Upload) pickUnique(start int) error {
	f := u.fs
	if u.base == "" {
		u.base = u.name
		if fi, err := f.home.Stat(u.rel); err == nil && fi.IsDir() {
			u.base = path.Join(u.name, uniqueBase)
		}
	}
	_, baseRel, err := relPath(u.base)
	if err != nil {
		return err
	}
	if err := f.checkParent(baseRel); err != nil {
		return err
	}
	for i := start; i < maxUnique; i++ {
		cand := u.base
		if i > 0 {
			cand = fmt.Sprintf("%s.%d", u.base, i)
		}
		_, rel, err := relPath(cand)
		if err != nil {
			return err
		}
		if _, err := f.home.Lstat(rel); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if reserveName(f.homeDir, rel) {
			u.name, u.rel, u.reserved = cand, rel, true
			return nil
		}
	}
	return ErrExist
}

// openTemp creates the temporary file and fills it with the part of the
// existing file the upload continues from.
func (u *Upload) openTemp(offset int64) error {
	f := u.fs
	var rnd [12]byte
	rand.Read(rnd[:])
	u.tmpName = "upload-" + hex.EncodeToString(rnd[:])
	file, err := f.tmp.OpenFile(u.tmpName, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	u.file = file
	if u.mode == CreateUnique || u.mode == CreateTruncate && offset == 0 {
		return nil
	}
	if u.mode == CreateAppend {
		// Only the appended bytes are staged; Commit adds them to the
		// file. Refuse now what it could not append to.
		src, err := f.openRegular(u.rel)
		if err == nil {
			src.Close()
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	src, err := f.openRegular(u.rel)
	if errors.Is(err, fs.ErrNotExist) {
		if offset > 0 && u.mode == CreateTruncate {
			return ErrBadOffset
		}
		return nil // APPE to a new file
	}
	if err != nil {
		return err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return err
	}
	n := st.Size()
	if u.mode == CreateTruncate {
		if offset > n {
			return ErrBadOffset
		}
		n = offset
	}
	if u.sum == nil {
		copied, err := io.CopyN(file, src, n) // copy_file_range where it can
		u.written = copied
		if err != nil {
			return fmt.Errorf("copy %d of %d bytes: %w", copied, n, err)
		}
		return nil
	}
	// Through Write, so the prefix is hashed with the rest.
	buf := make([]byte, min(n, copyBufSize))
	copied, err := io.CopyBuffer(u, io.LimitReader(src, n), buf)
	if err == nil && copied < n {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("copy %d of %d bytes: %w", copied, n, err)
	}
	return nil
}

// Write appends p to the temporary file, hashing it on the way, and every
// writebackChunk bytes asks the kernel to start writing the data out so
// that Commit's fsync has little left to do. Call it from the writing
// goroutine only.
func (u *Upload) Write(p []byte) (int, error) {
	n, err := u.file.Write(p)
	if u.sum != nil {
		u.sum.Write(p[:n])
	}
	u.written += int64(n)
	u.writeback()
	if err != nil {
		return n, err
	}
	return n, nil
}

// writeback starts writing out the bytes written since the last call once
// they reach writebackChunk, unless nothing is synced at Commit.
func (u *Upload) writeback() {
	if u.written-u.flushed >= writebackChunk && !u.fs.noSync {
		startWriteback(u.file, u.flushed, u.written-u.flushed)
		u.flushed = u.written
	}
}

// File returns the temporary file, positioned after any content copied
// from the existing file and anything written with Write. It is a real
// *os.File. Data written to it directly is not hashed, so an upload whose
// File was asked for records no digest. Do not close it.
func (u *Upload) File() *os.File {
	u.sum = nil
	return u.file
}

// Name returns the upload's final virtual path. For CreateUnique it is the
// name chosen by Create; Commit may move to the next free name if another
// writer took that one in the meantime, so read it again after Commit.
func (u *Upload) Name() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.name
}

// Commit makes the upload durable (fsync, unless Options.NoSync) and renames it into place
// atomically, replacing an existing file (for CreateUnique, never replacing
// anything). With versions enabled the replaced file is kept as a version
// first, by hard link where the file system allows it, so readers still see
// the old content or the new, never nothing. After Commit, or after it fails, the Upload is finished and the
// temporary file is gone.
func (u *Upload) Commit() error { return u.commit(!u.fs.noSync) }

// commit is Commit; with durable false it leaves the fsyncs of the file and
// of its new directory entry to the caller (CommitAll).
func (u *Upload) commit(durable bool) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return pathErr("commit", u.name, os.ErrClosed)
	}
	u.done = true
	defer u.finish()
	var err error
	if durable {
		err = u.file.Sync()
	}
	var before fs.FileInfo
	if err == nil && u.sum != nil && identitySupported {
		// Kept open across the rename, to stat the very inode placed.
		before, err = u.file.Stat()
	} else if cerr := u.file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = u.place(durable)
	}
	if before != nil {
		if err == nil && before.Size() == u.written {
			var sum [sha256.Size]byte
			u.sum.Sum(sum[:0])
			if after, serr := u.file.Stat(); serr == nil {
				u.fs.digests.addPlaced(before, after, sum)
			}
		}
		if cerr := u.file.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		u.fs.tmp.Remove(u.tmpName)
		return pathErr("commit", u.name, err)
	}
	return nil
}

// place moves the closed temporary file to its final name; durable also
// makes the new directory entry durable.
func (u *Upload) place(durable bool) error {
	f := u.fs
	if u.mode == CreateAppend {
		return f.appendTo(u.tmpName, u.rel, u.name, durable, u.expect)
	}
	if u.mode != CreateUnique {
		return f.replaceWith(u.tmpName, u.rel, u.name, durable, u.expect)
	}
	for i := 1; ; i++ {
		err := f.moveInto(u.tmpName, u.rel, true, durable)
		if !errors.Is(err, fs.ErrExist) || i >= maxUnique {
			return err
		}
		// Someone else created our name since Create: take the next one.
		u.release()
		if err := u.pickUnique(i); err != nil {
			return err
		}
	}
}

// Abort discards the upload: the temporary file is removed and any previous
// file under the name is untouched. Abort after Commit does nothing.
func (u *Upload) Abort() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return nil
	}
	u.done = true
	defer u.finish()
	u.file.Close()
	if err := u.fs.tmp.Remove(u.tmpName); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return pathErr("abort", u.name, err)
	}
	return nil
}

// hashingUploads counts the uploads of the process being hashed on receipt.
var hashingUploads atomic.Int64

// maxHashing is how many uploads are hashed on receipt at once. Hashing
// saves HASH a second read, but costs CPU while receiving; with more
// uploads than that running, the CPU is better spent receiving, and HASH
// of those files reads them as it always did.
func maxHashing() int { return 2 * runtime.GOMAXPROCS(0) }

// stopHashing takes the upload out of hashingUploads.
func (u *Upload) stopHashing() {
	if u.hashing {
		u.hashing = false
		hashingUploads.Add(-1)
	}
}

// finish unregisters a finished upload.
func (u *Upload) finish() {
	u.stopHashing()
	u.release()
	u.fs.mu.Lock()
	delete(u.fs.uploads, u)
	u.fs.mu.Unlock()
}

// reserved holds the names CreateUnique uploads of this process have picked
// and not yet committed, keyed by home and relative path, so two sessions
// never pick the same one.
var reserved = struct {
	sync.Mutex
	names map[string]struct{}
}{names: make(map[string]struct{})}

func reserveName(homeDir, rel string) bool {
	key := homeDir + "\x00" + rel
	reserved.Lock()
	defer reserved.Unlock()
	if _, ok := reserved.names[key]; ok {
		return false
	}
	reserved.names[key] = struct{}{}
	return true
}

// release gives up the upload's reserved name, if it holds one.
func (u *Upload) release() {
	if !u.reserved {
		return
	}
	u.reserved = false
	reserved.Lock()
	delete(reserved.names, u.fs.homeDir+"\x00"+u.rel)
	reserved.Unlock()
}
