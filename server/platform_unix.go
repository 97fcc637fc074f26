//go:build unix

package server

import (
	"io/fs"
	"net"
	"strconv"
	"syscall"
)

// uniqueID is RFC 3659's unique fact: device and inode, stable across
// renames, so a client can recognise a moved file.
func uniqueID(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return strconv.FormatUint(uint64(st.Dev), 16) + "i" + strconv.FormatUint(uint64(st.Ino), 16)
}

// setOOBInline keeps TCP urgent data in the normal stream: clients send
// ABOR's last byte as urgent data (ftplib, RFC 959's Synch), which the
// kernel would otherwise take out of the stream.
func setOOBInline(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_OOBINLINE, 1)
	})
}
