//go:build !linux

package ftpfs

// CommitAll commits each of ups with Commit; errs[i] is ups[i]'s
// outcome. (On Linux it shares the syncs between them.) Every upload must
// be done being written; call it from the goroutine that
// wrote them.
func (f *FS) CommitAll(ups []*Upload) []error {
	errs := make([]error, len(ups))
	for i, u := range ups {
		errs[i] = u.Commit()
	}
	return errs
}
