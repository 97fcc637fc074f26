package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
)

// VersionsRoot is syncserver's read-only virtual directory of old versions:
// the versions of the file /docs/a.txt are the files of /.versions/docs/a.txt/.
const VersionsRoot = "/.versions"

// VersionNameLayout is the time layout of version names on syncserver
// ("20261123T183000.123Z", UTC): the time the content stopped being current.
const VersionNameLayout = "20060102T150405.000Z"

// DefaultRestoreWorkers is how many files RestoreTree downloads at once
// when RestoreOptions.Workers is zero.
const DefaultRestoreWorkers = 4

// ErrNoVersions: the server keeps no old version of the path (or, for a
// time, the path did not exist then).
var ErrNoVersions = errors.New("no old version")

// Version is one old version of a remote file.
type Version struct {
	// Name is the version's file name in VersionsRoot/<path>/.
	Name string
	// Time is when this content stopped being current (it was replaced or
	// deleted); the content was current from the previous version's Time.
	Time time.Time
	// Size is the content's size in bytes.
	Size int64
	// ModTime is the content's modification time: it was written then,
	// so it was nowhere before. Zero when the server gave none.
	ModTime time.Time
}

// VersionPath returns the remote path of one version of remotePath.
func VersionPath(remotePath, name string) string {
	return path.Join(VersionsRoot, remotePath, name)
}

// ListVersions returns the old versions of the remote file remotePath,
// oldest first. A file without versions (or a server without the
// /.versions view) gives an empty list and no error. It is safe for
// concurrent use as far as the pool is.
func ListVersions(ctx context.Context, pool *remote.Pool, remotePath string) ([]Version, error) {
	entries, err := pool.List(ctx, path.Join(VersionsRoot, remotePath))
	if remote.ReplyCode(err) == 550 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", remotePath, err)
	}
	var out []Version
	for _, e := range entries {
		if v, ok := versionOf(e); ok {
			out = append(out, v)
		}
	}
	sortVersions(out)
	return out, nil
}

// versionOf reports whether e (an entry of a version directory) is a
// version; subdirectories hold the versions of paths below the file.
func versionOf(e remote.Entry) (Version, bool) {
	if e.Dir || len(e.Name) != len(VersionNameLayout) {
		return Version{}, false
	}
	t, err := time.Parse(VersionNameLayout, e.Name)
	if err != nil {
		return Version{}, false
	}
	return Version{Name: e.Name, Time: t, Size: e.Size, ModTime: e.ModTime}, true
}

func sortVersions(vs []Version) {
	slices.SortFunc(vs, func(a, b Version) int { return a.Time.Compare(b.Time) })
}

// ContentAt picks, from versions sorted oldest first, the one whose content
// was current at time at: the oldest that stopped being current after at
// (a version that ended exactly at at had already been replaced then).
// current is true when at is after the newest version ended (or there are
// none): the file's current content, if it exists, is what it had at at.
//
// When at precedes every kept version, the oldest is returned: older
// versions may have been pruned, and the file may not have existed yet at
// at; the caller says so to the user.
func ContentAt(versions []Version, at time.Time) (v Version, current bool) {
	for _, v := range versions {
		if v.Time.After(at) {
			return v, false
		}
	}
	return Version{}, true
}

// RenamesUnknown says what restore -at cannot do: syncserver keeps the
// contents a path had, not the names a file had.
const RenamesUnknown = "syncserver keeps no record of renames: a file renamed or moved since then is " +
	"restored under its current name (if its content is from before then), not under the name it had"

// existedAt checks that the content ContentAt picked (v, or with current
// the entry cur, nil when the path does not exist now) was the path's
// content at at, from what the server keeps: a content written after at
// was not there at at, and a path whose last version ended (deleted) by at
// and that does not exist now, or exists with younger content, had
// nothing at at. It returns an ErrNoVersions error saying why not.
func existedAt(vs []Version, v Version, current bool, cur *remote.Entry, at time.Time) error {
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	var written time.Time
	if current {
		switch {
		case cur == nil && len(vs) > 0:
			return fmt.Errorf("it was deleted at %s, before %s: %w", stamp(vs[len(vs)-1].Time), stamp(at), ErrNoVersions)
		case cur == nil:
			return fmt.Errorf("it does not exist and has no old versions: %w", ErrNoVersions)
		case cur.Dir:
			return fmt.Errorf("it is a directory now and no file version is from then: %w", ErrNoVersions)
		}
		written = cur.ModTime
	} else {
		written = v.ModTime
	}
	if written.IsZero() || !written.After(at) {
		return nil
	}
	prev := -1
	for i := range vs {
		if !vs[i].Time.After(at) {
			prev = i
		}
	}
	if prev >= 0 {
		return fmt.Errorf("it did not exist at %s: deleted at %s, written again at %s: %w",
			stamp(at), stamp(vs[prev].Time), stamp(written), ErrNoVersions)
	}
	return fmt.Errorf("it did not exist at %s: its oldest content the server keeps was written at %s: %w",
		stamp(at), stamp(written), ErrNoVersions)
}

// ParseAt parses a -at value: an RFC 3339 time, or a duration meaning that
// long before now ("90m", "36h").
func ParseAt(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("time %q: want RFC 3339 (2026-11-23T18:30:00Z) or a duration ago (90m, 36h)", s)
	}
	return now.Add(-d), nil
}

// RestoreResult says what a restore of one file did.
type RestoreResult struct {
	// RemotePath is the file restored, Local where its content went.
	RemotePath, Local string
	// Version is the old version used; zero when Current.
	Version Version
	// Current: the file's current content already was its content at the
	// requested time, and that is what was fetched.
	Current bool
	// OldestKept: the oldest kept version was used. It was written before
	// the requested time and current after it; older versions may have
	// been pruned (versions.keep, max_age).
	OldestKept bool
	// Size is the number of bytes written.
	Size int64
}

// RestoreFile fetches the content the remote file remotePath had at time
// at (the newest old version when at is zero) to localPath, atomically
// (temporary file and rename, the remote modification time kept). It
// returns an ErrNoVersions error saying why when there is nothing to
// restore: no old version, or, for a time, no content of the path then
// (not created yet, deleted, or written again only after it).
func RestoreFile(ctx context.Context, pool *remote.Pool, remotePath string, at time.Time, localPath string) (RestoreResult, error) {
	vs, err := ListVersions(ctx, pool, remotePath)
	if err != nil {
		return RestoreResult{}, err
	}
	var cur *remote.Entry
	if !at.IsZero() {
		e, err := pool.Stat(ctx, remotePath)
		switch {
		case err == nil:
			cur = &e
		case remote.ReplyCode(err) != 550:
			return RestoreResult{}, fmt.Errorf("restore %s: %w", remotePath, err)
		}
	}
	return restoreFrom(ctx, pool, remotePath, vs, cur, at, localPath)
}

// restoreFrom restores remotePath given its versions (oldest first) and,
// for a time, its current entry (nil: it does not exist now).
func restoreFrom(ctx context.Context, pool *remote.Pool, remotePath string, vs []Version, cur *remote.Entry, at time.Time, localPath string) (RestoreResult, error) {
	res := RestoreResult{RemotePath: remotePath, Local: localPath}
	switch {
	case at.IsZero() && len(vs) == 0:
		return res, fmt.Errorf("restore %s: %w", remotePath, ErrNoVersions)
	case at.IsZero():
		res.Version = vs[len(vs)-1]
	default:
		res.Version, res.Current = ContentAt(vs, at)
		res.OldestKept = !res.Current && res.Version == vs[0]
		if err := existedAt(vs, res.Version, res.Current, cur, at); err != nil {
			return res, fmt.Errorf("restore %s: %w", remotePath, err)
		}
	}
	src := VersionPath(remotePath, res.Version.Name)
	if res.Current {
		src = remotePath
	}
	d, err := pool.Download(ctx, src, localPath, nil)
	if res.Current && remote.ReplyCode(err) == 550 {
		return res, fmt.Errorf("restore %s: the file did not exist at %s: %w",
			remotePath, at.UTC().Format(time.RFC3339), ErrNoVersions)
	}
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", remotePath, err)
	}
	res.Size = d.Size
	return res, nil
}

// RestoreOptions configures RestoreTree.
type RestoreOptions struct {
	// Workers is how many files are downloaded at once; zero means
	// DefaultRestoreWorkers.
	Workers int
	// Logger, if set, gets a line per restored file.
	Logger *slog.Logger
}

// TreeResult says what RestoreTree did.
type TreeResult struct {
	// Restored lists the files written, by path relative to the directory.
	Restored []RestoreResult
	// Skipped are files that had no content at the time (created later,
	// or deleted before it, or without old versions when at is zero).
	Skipped []string
	// Why maps each skipped file to the reason.
	Why map[string]string
	// Failed maps files that could not be restored to why.
	Failed map[string]error
}

// RestoreTree restores every file under the remote directory remoteDir
// as of time at (each file's newest old version when at is zero) into
// localDir, keeping relative paths. Files deleted since at exist only as
// versions and are found in the version tree; nothing local is deleted.
// Each file is written atomically; a failure of one file does not stop the
// others and is reported in TreeResult.Failed.
func RestoreTree(ctx context.Context, pool *remote.Pool, remoteDir string, at time.Time, localDir string, opt RestoreOptions) (TreeResult, error) {
	res := TreeResult{Failed: make(map[string]error), Why: make(map[string]string)}
	current, err := pool.Walk(ctx, remoteDir, nil)
	if err != nil && remote.ReplyCode(err) != 550 {
		return res, fmt.Errorf("restore %s: list: %w", remoteDir, err)
	}
	old, err := pool.Walk(ctx, path.Join(VersionsRoot, remoteDir), nil)
	if err != nil && remote.ReplyCode(err) != 550 {
		return res, fmt.Errorf("restore %s: list versions: %w", remoteDir, err)
	}
	files := make(map[string][]Version)
	for rel, e := range current {
		if _, seen := files[rel]; !seen && !e.Dir {
			files[rel] = nil
		}
	}
	for rel, e := range old {
		if v, ok := versionOf(e); ok && strings.Contains(rel, "/") {
			file := rel[:strings.LastIndexByte(rel, '/')]
			files[file] = append(files[file], v)
		}
	}
	rels := make([]string, 0, len(files))
	for rel := range files {
		rels = append(rels, rel)
	}
	slices.Sort(rels)

	workers := opt.Workers
	if workers <= 0 {
		workers = DefaultRestoreWorkers
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for _, rel := range rels {
		vs := files[rel]
		sortVersions(vs)
		if at.IsZero() && len(vs) == 0 {
			res.Skipped = append(res.Skipped, rel)
			res.Why[rel] = "it has no old version"
			continue
		}
		var cur *remote.Entry
		if e, ok := current[rel]; ok {
			cur = &e
		}
		if !at.IsZero() {
			v, isCur := ContentAt(vs, at)
			if err := existedAt(vs, v, isCur, cur, at); err != nil {
				res.Skipped = append(res.Skipped, rel)
				res.Why[rel] = strings.TrimSuffix(err.Error(), ": "+ErrNoVersions.Error())
				continue
			}
		}
		lp, err := localJoin(localDir, rel)
		if err != nil {
			res.Failed[rel] = err
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := restoreFrom(ctx, pool, path.Join(remoteDir, rel), vs, cur, at, lp)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrNoVersions):
				res.Skipped = append(res.Skipped, rel)
				res.Why[rel] = err.Error()
			case err != nil:
				res.Failed[rel] = err
			default:
				res.Restored = append(res.Restored, r)
				if opt.Logger != nil {
					opt.Logger.Info("restored", "path", r.RemotePath, "version", r.Version.Name, "current", r.Current, "bytes", r.Size)
				}
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(res.Restored, func(a, b RestoreResult) int { return strings.Compare(a.RemotePath, b.RemotePath) })
	slices.Sort(res.Skipped)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("restore %s: %w", remoteDir, err)
	}
	return res, nil
}

// localJoin places the slash path rel (from a server listing) below dir,
// refusing anything that would land elsewhere.
func localJoin(dir, rel string) (string, error) {
	p := filepath.FromSlash(rel)
	if !filepath.IsLocal(p) || strings.ContainsRune(rel, '\\') && filepath.Separator == '\\' {
		return "", fmt.Errorf("restore: unsafe path %q from the server", rel)
	}
	return filepath.Join(dir, p), nil
}

// Restore restores remotePath as of at to localPath: a file with
// RestoreFile, a directory (existing, or deleted but present in the
// version tree) with RestoreTree.
func Restore(ctx context.Context, pool *remote.Pool, remotePath string, at time.Time, localPath string, opt RestoreOptions) (TreeResult, error) {
	remotePath = path.Clean(remotePath)
	isDir, err := remoteIsDir(ctx, pool, remotePath)
	if err != nil {
		return TreeResult{}, err
	}
	if isDir {
		return RestoreTree(ctx, pool, remotePath, at, localPath, opt)
	}
	r, err := RestoreFile(ctx, pool, remotePath, at, localPath)
	if err != nil {
		return TreeResult{}, err
	}
	return TreeResult{Restored: []RestoreResult{r}, Failed: map[string]error{}, Why: map[string]string{}}, nil
}

// remoteIsDir tells a directory from a file, looking at the version tree
// for paths that no longer exist.
func remoteIsDir(ctx context.Context, pool *remote.Pool, p string) (bool, error) {
	if p == "/" {
		return true, nil
	}
	e, err := pool.Stat(ctx, p)
	if err == nil {
		return e.Dir, nil
	}
	if remote.ReplyCode(err) != 550 {
		return false, fmt.Errorf("restore %s: %w", p, err)
	}
	entries, err := pool.List(ctx, path.Join(VersionsRoot, p))
	if remote.ReplyCode(err) == 550 {
		return false, fmt.Errorf("restore %s: no such file or directory, now or in the versions: %w", p, ErrNoVersions)
	}
	if err != nil {
		return false, fmt.Errorf("restore %s: list versions: %w", p, err)
	}
	for _, e := range entries {
		if _, ok := versionOf(e); ok {
			return false, nil
		}
	}
	return true, nil
}

// LocalPathFor maps a remote path on the named server to its place in a
// synced folder: the folder whose remote directory contains it (the
// deepest, if several do). ok is false when no folder syncs it.
func LocalPathFor(cfg Config, server, remotePath string) (local string, ok bool) {
	remotePath = path.Clean(remotePath)
	best := -1
	for _, f := range cfg.Folders {
		if f.Server != server {
			continue
		}
		root := path.Clean(f.Remote)
		var rel string
		switch {
		case remotePath == root:
		case root == "/":
			rel = remotePath[1:]
		case strings.HasPrefix(remotePath, root+"/"):
			rel = remotePath[len(root)+1:]
		default:
			continue
		}
		if len(root) <= best {
			continue
		}
		p := f.Path
		if rel != "" {
			var err error
			if p, err = localJoin(f.Path, rel); err != nil {
				continue
			}
		}
		local, ok, best = p, true, len(root)
	}
	return local, ok
}
