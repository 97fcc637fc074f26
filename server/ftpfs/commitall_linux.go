//go:build linux

package ftpfs

import "golang.org/x/sys/unix"

// syncfs is syncfs(2); a variable so that tests can make it fail and
// drive CommitAll's per-file fallback, the path file systems without it
// (and other systems) take.
var syncfs = unix.Syncfs

// CommitAll commits ups as Commit commits each, but with two syncs of the
// whole file system in all instead of an fsync of every file and of every
// directory it lands in: the first makes every staged file durable before
// any is renamed into place, so no crash can leave a name on unwritten
// data; the second makes the renames durable before CommitAll returns. It
// suits many small uploads finishing together (a SITE BATCH), where the
// fsyncs, not the bytes, are the cost.
//
// errs[i] is ups[i]'s outcome, as Commit would return it. Uploads of
// another FS are committed one by one. Every upload must be done being
// written; like Commit, call it from
// the goroutine that wrote them. A sync also waits for whatever else is
// being written to the same file system at the time, so CommitAll is for
// groups of small files, not for one large one.
func (f *FS) CommitAll(ups []*Upload) []error {
	errs := make([]error, len(ups))
	if len(ups) == 0 || f.noSync {
		for i, u := range ups {
			errs[i] = u.Commit()
		}
		return errs
	}
	fd := int(f.tmpFD.Fd())
	if err := syncfs(fd); err != nil {
		// Nothing is renamed yet: let each upload make itself durable.
		for i, u := range ups {
			errs[i] = u.Commit()
		}
		return errs
	}
	for i, u := range ups {
		if u.fs != f {
			errs[i] = u.Commit() // not covered by the syncs of f's file system
			continue
		}
		errs[i] = u.commit(false)
	}
	if err := syncfs(fd); err != nil {
		for i, u := range ups {
			if errs[i] == nil {
				errs[i] = pathErr("commit", u.name, err)
			}
		}
	}
	return errs
}
