package ftpfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syncagent/syncagent/server/versions"
)

// dataDir is the server's private directory at the storage root, outside
// every home.
const dataDir = ".syncserver"

// Options tunes an FS. The zero value is a writable FS whose uploads are
// staged in ROOT/.syncserver/tmp.
type Options struct {
	// ReadOnly makes every mutating call return ErrReadOnly.
	ReadOnly bool
	// TempDir is where uploads are written before Commit renames them into
	// place. It must be on the same file system as the home and outside it.
	// If empty, ROOT/.syncserver/tmp is used.
	TempDir string
	// Versions, when set, keeps the previous content of every regular file
	// that is replaced (Upload.Commit, Rename over it) or deleted (Remove,
	// RemoveDir of a tree) in this store, and lets RemoveDir remove
	// non-empty directories. It must be on the same file system as the
	// home: versions are kept by rename or hard link, never by copy. Nil
	// disables versions.
	Versions *versions.Store
	// ProtectVersions marks the versions this FS keeps as protected: count
	// trimming (versions.keep) never removes them, only age pruning does.
	// Set for append-only users, so that overwriting a file again and again
	// cannot push its original out of the store.
	ProtectVersions bool
	// Digests, when set, receives the SHA-256 of every committed upload
	// and follows the files through Rename and Chtimes, so that HASH can
	// answer from it (DigestCache.LookupSHA256). One cache is meant to be
	// shared by every FS of a server. Nil disables it.
	Digests *DigestCache
	// NoSync leaves committed uploads in the OS's page cache instead of
	// making them durable (fsync) before Commit returns, as vsftpd,
	// ProFTPD and pure-ftpd do: faster where the disk is the limit, but a
	// power cut can then lose recent uploads or leave them empty. A crash
	// of the server process alone loses nothing either way.
	NoSync bool
	// Context, when set, stops long operations (RemoveDir of a large or
	// deep tree) early once it ends, leaving what is not removed yet in
	// place; syncserver passes one that ends when the server is closed.
	// Nil never stops them.
	Context context.Context
	// HashUploads, when set, is asked at each Create whether to hash that
	// upload on receipt for Digests (a client that never sends HASH should
	// not pay for digests it never reads); nil means always. It must be
	// safe for concurrent use.
	HashUploads func() bool
}

// FS is one user's jailed view of its home directory: virtual path "/" is
// the home, and nothing outside it can be reached. Methods take virtual
// paths, normally from Resolve (any other string is resolved against "/").
// An FS is safe for concurrent use by one session's goroutines.
type FS struct {
	home     *os.Root
	tmp      *os.Root
	homeFD   *os.File // the home directory, for descriptor-relative fast paths (Linux)
	tmpFD    *os.File // the temp directory, likewise
	homeDir  string   // absolute OS path of the home
	tmpDir   string   // absolute OS path of the temp directory
	readOnly bool
	versions *versions.Store // nil: no versions
	protect  bool            // versions kept by this FS escape count trimming
	homeName string          // the home relative to the storage root, the store's key
	digests  *DigestCache    // nil: no digests recorded
	noSync   bool            // Options.NoSync
	hashUp   func() bool     // Options.HashUploads
	ctx      context.Context // Options.Context, or Background

	mu      sync.Mutex
	uploads map[*Upload]struct{}
	closed  bool
}

// Open opens the jail for the home directory home (relative to the storage
// root root, for example "alice" or "teams/ops"), creating root, the home
// and the temp directory (mode 0700) if they are missing. The home may not
// be the root itself or lie inside ROOT/.syncserver.
func Open(root, home string, opt Options) (*FS, error) {
	if err := checkHome(home); err != nil {
		return nil, fmt.Errorf("open home %q: %w", home, err)
	}
	rootDir, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open storage root: %w", err)
	}
	if err := os.MkdirAll(rootDir, 0o700); err != nil {
		return nil, fmt.Errorf("create storage root: %w", err)
	}
	storage, err := os.OpenRoot(rootDir)
	if err != nil {
		return nil, fmt.Errorf("open storage root: %w", err)
	}
	defer storage.Close()

	f := &FS{
		homeDir:  filepath.Join(rootDir, home),
		readOnly: opt.ReadOnly,
		versions: opt.Versions,
		protect:  opt.ProtectVersions,
		digests:  opt.Digests,
		noSync:   opt.NoSync,
		hashUp:   opt.HashUploads,
		ctx:      opt.Context,
		homeName: filepath.Clean(home),
		uploads:  make(map[*Upload]struct{}),
	}
	if f.ctx == nil {
		f.ctx = context.Background()
	}
	// Through the storage Root, so a home that is a symlink out of the
	// storage root is refused rather than followed.
	if err := storage.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("create home %q: %w", home, err)
	}
	if f.home, err = storage.OpenRoot(home); err != nil {
		return nil, fmt.Errorf("open home %q: %w", home, err)
	}
	if opt.TempDir == "" {
		tmpRel := filepath.Join(dataDir, "tmp")
		f.tmpDir = filepath.Join(rootDir, tmpRel)
		if err = storage.MkdirAll(tmpRel, 0o700); err == nil {
			f.tmp, err = storage.OpenRoot(tmpRel)
		}
	} else {
		if f.tmpDir, err = filepath.Abs(opt.TempDir); err == nil {
			err = checkTempDir(f.homeDir, f.tmpDir)
		}
		if err == nil {
			err = os.MkdirAll(f.tmpDir, 0o700)
		}
		if err == nil {
			f.tmp, err = os.OpenRoot(f.tmpDir)
		}
	}
	if err != nil {
		f.home.Close()
		return nil, fmt.Errorf("open temp dir: %w", err)
	}
	if err := f.openFast(); err != nil {
		f.home.Close()
		f.tmp.Close()
		return nil, fmt.Errorf("open home %q: %w", home, err)
	}
	return f, nil
}

// checkHome refuses homes that are not strictly below the storage root, or
// that would expose the server's own data directory.
func checkHome(home string) error {
	if err := checkPathBytes(filepath.ToSlash(home)); err != nil {
		return err
	}
	if !filepath.IsLocal(home) {
		return ErrInvalidPath
	}
	clean := filepath.Clean(home)
	first, _, _ := strings.Cut(filepath.ToSlash(clean), "/")
	if clean == "." || strings.EqualFold(first, dataDir) {
		return ErrInvalidPath
	}
	return nil
}

// checkTempDir refuses a temp directory inside the home, where users could
// see (and meddle with) uploads in progress.
func checkTempDir(homeDir, tmpDir string) error {
	rel, err := filepath.Rel(homeDir, tmpDir)
	if err == nil && filepath.IsLocal(rel) || rel == "." {
		return fmt.Errorf("temp dir %s is inside the home: %w", tmpDir, ErrInvalidPath)
	}
	return nil
}

// Close aborts every upload still in progress and releases the jail's
// directory handles. Other methods must not be called after Close.
func (f *FS) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	pending := make([]*Upload, 0, len(f.uploads))
	for u := range f.uploads {
		pending = append(pending, u)
	}
	f.mu.Unlock()
	var errs []error
	for _, u := range pending {
		errs = append(errs, u.Abort())
	}
	if f.homeFD != nil {
		errs = append(errs, f.homeFD.Close(), f.tmpFD.Close())
	}
	errs = append(errs, f.home.Close(), f.tmp.Close())
	return errors.Join(errs...)
}

// Stat returns the FileInfo of vpath without following a final symbolic
// link (Lstat semantics); links in earlier components are followed only
// while they stay inside the home.
func (f *FS) Stat(vpath string) (fs.FileInfo, error) {
	clean, rel, err := relPath(vpath)
	if err != nil {
		return nil, pathErr("stat", vpath, err)
	}
	fi, err := f.home.Lstat(rel)
	if err != nil {
		return nil, pathErr("stat", clean, err)
	}
	return fi, nil
}

// ReadDir lists the directory vpath, sorted by name. Entries are described
// with Lstat semantics, so a symbolic link appears as a link. It holds the
// whole directory in memory; OpenDir lists one chunk at a time.
func (f *FS) ReadDir(vpath string) ([]fs.FileInfo, error) {
	d, err := f.OpenDir(vpath)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	infos, err := d.f.Readdir(-1)
	if err != nil {
		return nil, pathErr("readdir", d.name, err)
	}
	slices.SortFunc(infos, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return infos, nil
}

// Dir is a directory opened by OpenDir, listed a chunk at a time so that
// a listing of any size holds one chunk in memory. Entries come in the
// order the file system returns them (not sorted) and are described with
// Lstat semantics. A Dir is used by one goroutine; Close it when done.
type Dir struct {
	f    *os.File
	name string // the clean virtual path, for errors
}

// OpenDir opens the directory vpath for listing with Next.
func (f *FS) OpenDir(vpath string) (*Dir, error) {
	clean, rel, err := relPath(vpath)
	if err != nil {
		return nil, pathErr("readdir", vpath, err)
	}
	d, err := f.home.Open(rel)
	if err != nil {
		return nil, pathErr("readdir", clean, err)
	}
	st, err := d.Stat()
	if err == nil && !st.IsDir() {
		err = ErrNotDir
	}
	if err != nil {
		d.Close()
		return nil, pathErr("readdir", clean, err)
	}
	return &Dir{f: d, name: clean}, nil
}

// Next returns up to n (at least 1) further entries, and io.EOF once the
// directory is exhausted.
func (d *Dir) Next(n int) ([]fs.FileInfo, error) {
	infos, err := d.f.Readdir(max(n, 1))
	if err != nil && !errors.Is(err, io.EOF) {
		return infos, pathErr("readdir", d.name, err)
	}
	return infos, err
}

// Close releases the directory.
func (d *Dir) Close() error { return d.f.Close() }

// Open opens the regular file vpath for reading (RETR). It returns a real
// *os.File so that copying it to a TCP connection can use sendfile. The
// caller closes it. Directories give ErrIsDir; FIFOs, devices and sockets
// give ErrPermission.
func (f *FS) Open(vpath string) (*os.File, error) {
	clean, rel, err := relPath(vpath)
	if err != nil {
		return nil, pathErr("open", vpath, err)
	}
	file, err := f.openRegular(rel)
	if err != nil {
		return nil, pathErr("open", clean, err)
	}
	return file, nil
}

// openRegular opens rel for reading and checks, on the open descriptor,
// that it is a regular file.
func (f *FS) openRegular(rel string) (*os.File, error) {
	file, err := f.openInHome(rel, openReadFlag)
	if err != nil {
		return nil, err
	}
	st, err := file.Stat()
	if err == nil && st.IsDir() {
		err = ErrIsDir
	} else if err == nil && !st.Mode().IsRegular() {
		err = ErrPermission
	}
	if err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

// Mkdir creates the directory vpath (mode 0755). Its parent must exist.
func (f *FS) Mkdir(vpath string) error {
	clean, rel, err := f.mutating(vpath)
	if err != nil {
		return pathErr("mkdir", clean, err)
	}
	if rel == "." {
		return pathErr("mkdir", clean, ErrExist)
	}
	if dirDepth(clean) > MaxDirDepth {
		return pathErr("mkdir", clean, ErrTooDeep)
	}
	return pathErr("mkdir", clean, f.home.Mkdir(rel, 0o755))
}

// MaxDirDepth is how many levels below the home Mkdir creates a directory
// ("/a" is level 1), and Rename moves one. Removing a tree costs, per
// entry, a walk of its path from the home, so the cost of RemoveDir grows
// with the square of a tree's depth: the limit keeps trees made through
// the FS below that cost. A directory moved by Rename keeps what is below
// it, so trees made on disk, or moved as a whole, can be deeper; RemoveDir
// still removes them, and stops early when Options.Context ends.
const MaxDirDepth = 128

// dirDepth is the level of the clean virtual path p below the home.
func dirDepth(p string) int { return strings.Count(p, "/") }

// Remove deletes the file (or symbolic link) vpath; a directory gives
// ErrIsDir. With versions enabled a regular file is not deleted but moved
// into the version store.
func (f *FS) Remove(vpath string) error { return f.remove(vpath, nil) }

func (f *FS) remove(vpath string, want *Expect) error {
	clean, rel, err := f.mutating(vpath)
	if err == nil && rel == "." {
		err = ErrIsDir
	}
	if err == nil {
		err = f.checkLink(rel)
	}
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.home.Lstat(rel)
	}
	if err == nil && fi.IsDir() {
		err = ErrIsDir
	}
	if err == nil {
		err = f.removeFile(rel, clean, want)
	} else if want != nil && errors.Is(err, fs.ErrNotExist) && !want.Absent {
		err = ErrPrecondition // what was expected there is gone
	}
	return pathErr("delete", clean, err)
}

// RemoveDir deletes the directory vpath. Without versions the directory
// must be empty (RFC 959's RMD) and a non-empty one gives ErrNotEmpty; with
// versions enabled a non-empty directory is removed with everything below
// it, each regular file kept as a version first (if that fails midway, what
// was removed by then is in the store and the rest stays in place). A file
// or a symbolic link gives ErrNotDir, the home ErrPermission.
func (f *FS) RemoveDir(vpath string) error { return f.removeDir(vpath, nil) }

func (f *FS) removeDir(vpath string, want *Expect) error {
	clean, rel, err := f.mutating(vpath)
	if err == nil && rel == "." {
		err = ErrPermission
	}
	if err == nil && want != nil {
		defer f.lockPath(clean)()
		err = f.check(rel, want)
	}
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.home.Lstat(rel)
	}
	if err == nil && !fi.IsDir() {
		err = ErrNotDir
	}
	if err == nil {
		err = f.home.Remove(rel)
		if err != nil && f.versions != nil && errors.Is(classify(err), ErrExist) {
			err = f.removeTree(f.ctx, rel, clean, 0)
		}
	}
	return pathErr("rmdir", clean, err)
}

// Rename moves the file or directory from to the path to, replacing an
// existing file at to (an existing directory at to must be empty, as with
// rename(2)). Neither may be the home itself. With versions enabled a
// regular file replaced at to is kept as a version first.
func (f *FS) Rename(from, to string) error { return f.rename(from, to, nil, nil) }

func (f *FS) rename(from, to string, wantFrom, wantTo *Expect) error {
	cfrom, rfrom, err := f.mutating(from)
	if err != nil {
		return pathErr("rename", cfrom, err)
	}
	cto, rto, err := f.mutating(to)
	if err != nil {
		return pathErr("rename", cto, err)
	}
	if rfrom == "." || rto == "." {
		return pathErr("rename", cfrom, ErrPermission)
	}
	before, ferr := f.lstatLink(rfrom)
	if errors.Is(ferr, ErrPermission) {
		return pathErr("rename", cfrom, ferr)
	}
	if err := f.checkLink(rto); err != nil {
		return pathErr("rename", cto, err)
	}
	if ferr != nil && wantFrom != nil && !wantFrom.Absent && errors.Is(ferr, fs.ErrNotExist) {
		ferr = ErrPrecondition // what was expected there is gone
	}
	if ferr != nil {
		return pathErr("rename", cfrom, ferr)
	}
	if strings.HasPrefix(cto, cfrom+"/") {
		return pathErr("rename", cto, ErrInvalidPath)
	}
	if before.IsDir() && dirDepth(cto) > MaxDirDepth {
		return pathErr("rename", cto, ErrTooDeep)
	}
	switch {
	case wantFrom != nil || wantTo != nil:
		defer f.lockPaths(cfrom, cto)()
		if err := f.check(rfrom, wantFrom); err != nil {
			return pathErr("rename", cfrom, err)
		}
		if err := f.check(rto, wantTo); err != nil {
			return pathErr("rename", cto, err)
		}
	case cfrom != cto:
		defer f.lockPath(cto)()
	}
	var k *kept
	if cfrom != cto {
		if k, err = f.keepOld(rto, cto, false); err != nil {
			return pathErr("rename", cto, err)
		}
	}
	if err := f.home.Rename(rfrom, rto); err != nil {
		k.undo()
		return pathErr("rename", cto, err)
	}
	k.commit()
	if f.digests.cached(before) {
		after, _ := f.home.Lstat(rto)
		f.digests.carry(before, after, time.Time{})
	}
	return nil
}

// Chtimes sets the modification time of vpath (MFMT), leaving its access
// time alone.
func (f *FS) Chtimes(vpath string, mtime time.Time) error {
	clean, rel, err := f.mutating(vpath)
	if err != nil {
		return pathErr("chtimes", clean, err)
	}
	before, err := f.lstatLink(rel)
	if errors.Is(err, ErrPermission) {
		return pathErr("chtimes", clean, err)
	}
	if !f.digests.cached(before) {
		return pathErr("chtimes", clean, f.home.Chtimes(rel, time.Time{}, mtime))
	}
	// Under the path lock, so no replacement lands between the change and
	// the stat that carries the digest over.
	defer f.lockPath(clean)()
	if err := f.home.Chtimes(rel, time.Time{}, mtime); err != nil {
		return pathErr("chtimes", clean, err)
	}
	after, _ := f.home.Lstat(rel)
	f.digests.carry(before, after, mtime)
	return nil
}

// mutating is relPath for operations that change the tree: it refuses them
// all on a read-only FS.
func (f *FS) mutating(vpath string) (clean, rel string, err error) {
	if f.readOnly {
		return vpath, "", ErrReadOnly
	}
	clean, rel, err = relPath(vpath)
	if err != nil {
		return vpath, "", err
	}
	return clean, rel, nil
}

// checkLink refuses operations named by a symbolic link that points outside
// the home, even those (rename, delete) that would act on the link itself:
// such a link is never something the jail lets a user handle.
func (f *FS) checkLink(rel string) error {
	if _, err := f.lstatLink(rel); errors.Is(err, ErrPermission) {
		return err
	}
	return nil // the operation itself reports a missing path
}

// lstatLink is Lstat of rel that also applies checkLink's rule: a symbolic
// link that points outside the home gives ErrPermission.
func (f *FS) lstatLink(rel string) (fs.FileInfo, error) {
	fi, err := f.home.Lstat(rel)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return fi, err
	}
	if _, err := f.home.Stat(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, ErrPermission
	}
	return fi, nil
}
