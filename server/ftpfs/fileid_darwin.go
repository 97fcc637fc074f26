package ftpfs

import "syscall"

// statTimes returns st's modification and status change times, which
// Darwin calls Mtimespec and Ctimespec.
func statTimes(st *syscall.Stat_t) (mtime, ctime syscall.Timespec) { return st.Mtimespec, st.Ctimespec }
