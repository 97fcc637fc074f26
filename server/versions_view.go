package server

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/syncagent/syncagent/server/ftpfs"
	"github.com/syncagent/syncagent/server/versions"
)

// versionsRoot is the read-only virtual directory in which every user
// browses the old versions of its home's files: /.versions/docs/a.txt/ lists
// the versions of /docs/a.txt, named by the time they stopped being current.
// It is not in the listing of "/" (so mirroring clients do not download it)
// but every read command reaches it by path.
const versionsRoot = "/.versions"

// sessionFS is one session's storage: the user's jailed home, with the
// virtual directory /.versions laid over it. Reads of paths under
// /.versions go to the version store; every write there is refused with
// ftpfs.ErrReadOnly (550). A real entry of the home's root named .versions
// (in any letter case, which some file systems treat as the same name) is
// shadowed: it is hidden from listings and cannot be created, renamed or
// removed (ftpfs.ErrInvalidPath, 553). Like ftpfs.FS it is safe for
// concurrent use by one session's goroutines.
type sessionFS struct {
	*ftpfs.FS
	store      *versions.Store // nil: versions disabled, /.versions is empty
	home       string
	appendOnly bool
}

func newSessionFS(fsys *ftpfs.FS, store *versions.Store, u *UserConfig) *sessionFS {
	return &sessionFS{FS: fsys, store: store, home: u.Home, appendOnly: u.AppendOnly}
}

// versionsPath maps a virtual path under /.versions to the path in the
// version store ("/.versions" is "/", "/.versions/docs/a.txt" is
// "/docs/a.txt"); ok is false for every other path.
func versionsPath(p string) (sub string, ok bool) {
	if p == versionsRoot {
		return "/", true
	}
	if rest, found := strings.CutPrefix(p, versionsRoot+"/"); found {
		return "/" + rest, true
	}
	return "", false
}

// shadowed reports whether p lies under a root entry whose name equals
// ".versions" in some letter case.
func shadowed(p string) bool {
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return strings.EqualFold(first, versionsRoot[1:])
}

// writable refuses a write to p under /.versions (550) or to a shadowed
// name (553).
func (v *sessionFS) writable(op, p string) error {
	if _, ok := versionsPath(p); ok {
		return &fs.PathError{Op: op, Path: p, Err: ftpfs.ErrReadOnly}
	}
	if shadowed(p) {
		return &fs.PathError{Op: op, Path: p, Err: ftpfs.ErrInvalidPath}
	}
	return nil
}

// viewErr maps an error from the store onto ftpfs's sentinels (so replies
// come from the usual table) without any real path.
func viewErr(op, p string, err error) error {
	if errors.Is(err, fs.ErrInvalid) || errors.Is(err, versions.ErrInvalidPath) {
		err = ftpfs.ErrNotExist // paths the store cannot hold have no versions
	}
	return &fs.PathError{Op: op, Path: p, Err: ftpfs.MapError(err)}
}

// Stat describes p; under /.versions, from the version store.
func (v *sessionFS) Stat(p string) (fs.FileInfo, error) {
	sub, ok := versionsPath(p)
	if !ok {
		return v.FS.Stat(p)
	}
	if v.store == nil {
		if sub == "/" {
			return viewInfo{FileInfo: emptyViewDir{}}, nil
		}
		return nil, viewErr("stat", p, fs.ErrNotExist)
	}
	fi, err := v.store.Stat(v.home, sub)
	if err != nil {
		return nil, viewErr("stat", p, err)
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return nil, viewErr("stat", p, fs.ErrNotExist)
	}
	if sub == "/" {
		return viewInfo{FileInfo: fi, name: versionsRoot[1:]}, nil
	}
	return viewInfo{FileInfo: fi}, nil
}

// ReadDir lists p, sorted by name, without the entries listings do not
// show (see visible); under /.versions from the version store.
func (v *sessionFS) ReadDir(p string) ([]fs.FileInfo, error) {
	sub, ok := versionsPath(p)
	if !ok {
		list, err := v.FS.ReadDir(p)
		return visible(list, p == "/"), err
	}
	if v.store == nil {
		if sub == "/" {
			return nil, nil
		}
		return nil, viewErr("readdir", p, fs.ErrNotExist)
	}
	list, err := v.store.ReadDir(v.home, sub)
	if err != nil {
		return nil, viewErr("readdir", p, err)
	}
	// The version tree mirrors the home's names, unlistable ones too
	// (a tree removed by RMD keeps every file it held).
	list = visible(list, false)
	for i, fi := range list {
		list[i] = viewInfo{FileInfo: fi}
	}
	return list, nil
}

// Open opens the file p for reading; under /.versions, one version.
func (v *sessionFS) Open(p string) (*os.File, error) {
	sub, ok := versionsPath(p)
	if !ok {
		return v.FS.Open(p)
	}
	if v.store == nil {
		return nil, viewErr("open", p, fs.ErrNotExist)
	}
	f, err := v.store.Open(v.home, sub)
	if err != nil {
		return nil, viewErr("open", p, err)
	}
	return f, nil
}

// Create starts an upload, refusing /.versions. Without versions, an
// append-only user may not replace an existing file (nothing would keep
// its content) but may still append to it.
func (v *sessionFS) Create(p string, mode ftpfs.CreateMode, offset int64) (*ftpfs.Upload, error) {
	if err := v.writable("create", p); err != nil {
		return nil, err
	}
	if v.appendOnly && v.store == nil && mode == ftpfs.CreateTruncate {
		if _, err := v.FS.Stat(p); err == nil {
			return nil, &fs.PathError{Op: "create", Path: p, Err: errAppendOnly}
		}
	}
	return v.FS.Create(p, mode, offset)
}

// Mkdir creates a directory, refusing /.versions.
func (v *sessionFS) Mkdir(p string) error {
	if err := v.writable("mkdir", p); err != nil {
		return err
	}
	return v.FS.Mkdir(p)
}

// Remove deletes a file, refusing /.versions.
func (v *sessionFS) Remove(p string) error { return v.RemoveIf(p, nil) }

// RemoveIf deletes a file if it is as want requires, refusing /.versions.
func (v *sessionFS) RemoveIf(p string, want *ftpfs.Expect) error {
	if err := v.writable("delete", p); err != nil {
		return err
	}
	return v.FS.RemoveIf(p, want)
}

// RemoveDir removes a directory, refusing /.versions.
func (v *sessionFS) RemoveDir(p string) error { return v.RemoveDirIf(p, nil) }

// RemoveDirIf removes a directory if it is as want requires, refusing
// /.versions.
func (v *sessionFS) RemoveDirIf(p string, want *ftpfs.Expect) error {
	if err := v.writable("rmdir", p); err != nil {
		return err
	}
	return v.FS.RemoveDirIf(p, want)
}

// Rename renames, refusing /.versions as source and as target.
func (v *sessionFS) Rename(from, to string) error { return v.RenameIf(from, to, nil, nil) }

// RenameIf renames if both ends are as required, refusing /.versions as
// source and as target.
func (v *sessionFS) RenameIf(from, to string, wantFrom, wantTo *ftpfs.Expect) error {
	if err := v.writable("rename", from); err != nil {
		return err
	}
	if err := v.writable("rename", to); err != nil {
		return err
	}
	return v.FS.RenameIf(from, to, wantFrom, wantTo)
}

// Chtimes sets a modification time, refusing /.versions.
func (v *sessionFS) Chtimes(p string, mtime time.Time) error {
	if err := v.writable("chtimes", p); err != nil {
		return err
	}
	return v.FS.Chtimes(p, mtime)
}

// viewInfo describes an entry of /.versions, which is read-only whatever
// the user's rights are (see session.permOf); name, if set, overrides the
// entry's name.
type viewInfo struct {
	fs.FileInfo
	name string
}

func (i viewInfo) Name() string {
	if i.name != "" {
		return i.name
	}
	return i.FileInfo.Name()
}

// emptyViewDir is /.versions when versions are disabled.
type emptyViewDir struct{}

func (emptyViewDir) Name() string       { return versionsRoot[1:] }
func (emptyViewDir) Size() int64        { return 0 }
func (emptyViewDir) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (emptyViewDir) ModTime() time.Time { return time.Unix(0, 0) }
func (emptyViewDir) IsDir() bool        { return true }
func (emptyViewDir) Sys() any           { return nil }

// permOf is RFC 3659's perm fact for fi: read-only inside /.versions, the
// user's rights elsewhere.
func (s *session) permOf(fi fs.FileInfo) string {
	if _, ok := fi.(viewInfo); ok {
		if fi.IsDir() {
			return "el"
		}
		return "r"
	}
	return s.perm(fi.IsDir())
}
