package ftpfs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
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

// Upload is a file being received. Data goes to a temporary file under the
// FS's temp directory; nothing appears under the real name until Commit,
// and Abort leaves any previous file untouched. The file returned by File
// is written by one goroutine; Commit and Abort may be called from any
// goroutine, and the first of them to run decides the outcome.
type Upload struct {
	fs      *FS
	file    *os.File
	tmpName string // base name in the temp directory
	mode    CreateMode

	mu       sync.Mutex
	name     string // final virtual path
	rel      string // final path relative to the home
	base     string // CreateUnique: the name candidates are derived from
	reserved bool   // rel is held in the reserved set
	done     bool
}

// Create starts an upload to vpath. For CreateAppend, and for
// CreateTruncate with offset > 0, the temporary file starts as a copy of
// the existing file's first offset bytes (append: the whole file, and
// offset is ignored), positioned at its end; an offset beyond the existing
// size gives ErrBadOffset. The parent directory must exist.
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
	if err := u.openTemp(offset); err != nil {
		if u.file != nil {
			u.file.Close()
			f.tmp.Remove(u.tmpName)
		}
		u.release()
		return nil, pathErr("create", u.name, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		u.file.Close()
		f.tmp.Remove(u.tmpName)
		u.release()
		return nil, pathErr("create", u.name, os.ErrClosed)
	}
	f.uploads[u] = struct{}{}
	return u, nil
}

// checkTarget checks that an upload may replace rel: its parent is a
// directory inside the home and rel is not a directory or an escaping link.
func (f *FS) checkTarget(rel string) error {
	if rel == "." {
		return ErrIsDir
	}
	if err := f.checkParent(rel); err != nil {
		return err
	}
	if err := f.checkLink(rel); err != nil {
		return err
	}
	if fi, err := f.home.Stat(rel); err == nil && fi.IsDir() {
		return ErrIsDir
	}
	return nil
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
	copied, err := io.CopyN(file, src, n)
	if err != nil {
		return fmt.Errorf("copy %d of %d bytes: %w", copied, n, err)
	}
	return nil
}

// File returns the temporary file to write the upload's data to, positioned
// after any content copied from the existing file. It is a real *os.File,
// so copying from a TCP connection can use splice. Do not close it.
func (u *Upload) File() *os.File { return u.file }

// Name returns the upload's final virtual path. For CreateUnique it is the
// name chosen by Create; Commit may move to the next free name if another
// writer took that one in the meantime, so read it again after Commit.
func (u *Upload) Name() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.name
}

// Commit makes the upload durable (fsync) and renames it into place
// atomically, replacing an existing file (for CreateUnique, never replacing
// anything). With versions enabled the replaced file is kept as a version
// first, by hard link where the file system allows it, so readers still see
// the old content or the new, never nothing. After Commit, or after it fails, the Upload is finished and the
// temporary file is gone.
func (u *Upload) Commit() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return pathErr("commit", u.name, os.ErrClosed)
	}
	u.done = true
	defer u.finish()
	err := u.file.Sync()
	if cerr := u.file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = u.place()
	}
	if err != nil {
		u.fs.tmp.Remove(u.tmpName)
		return pathErr("commit", u.name, err)
	}
	return nil
}

// place moves the closed temporary file to its final name.
func (u *Upload) place() error {
	f := u.fs
	if u.mode != CreateUnique {
		if err := f.checkTarget(u.rel); err != nil {
			return err
		}
		defer f.lockPath(u.name)()
		k, err := f.keepOld(u.rel, u.name, false)
		if err != nil {
			return err
		}
		if err := f.moveInto(u.tmpName, u.rel, false); err != nil {
			k.undo()
			return err
		}
		k.commit()
		return nil
	}
	for i := 1; ; i++ {
		err := f.moveInto(u.tmpName, u.rel, true)
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

// finish unregisters a finished upload.
func (u *Upload) finish() {
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
