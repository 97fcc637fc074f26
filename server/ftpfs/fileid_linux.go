package ftpfs

import "syscall"

// statTimes returns st's modification and status change times, which
// Linux calls Mtim and Ctim.
func statTimes(st *syscall.Stat_t) (mtime, ctime syscall.Timespec) { return st.Mtim, st.Ctim }
