package server

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncagent/syncagent/server/ftpfs"
)

// recvBufSize is the buffer an upload is received in. Uploads are hashed
// on the way in (so HASH needs no second read), which takes the data
// through user space; a large buffer keeps the read, hash and write
// system calls few per byte.
const recvBufSize = 1 << 20

var recvBufs = sync.Pool{New: func() any { b := make([]byte, recvBufSize); return &b }}

// receiveData copies src into the upload up until EOF, one full buffer at
// a time, and counts bytes in n. conn's deadline is pushed back as data
// arrives, so only a peer that sends nothing for timeout is dropped.
func receiveData(up *ftpfs.Upload, src io.Reader, conn net.Conn, timeout time.Duration, n *atomic.Int64) error {
	bp := recvBufs.Get().(*[]byte)
	defer recvBufs.Put(bp)
	buf := *bp
	// Moving the deadline costs a timer update: do it when an eighth of the
	// timeout has passed, not on every read.
	refresh := timeout / 8
	last := time.Now()
	conn.SetDeadline(last.Add(timeout))
	for {
		k := 0
		var err error
		for k < len(buf) && err == nil {
			var m int
			m, err = src.Read(buf[k:])
			k += m
			n.Add(int64(m))
			if now := time.Now(); m > 0 && now.Sub(last) >= refresh {
				last = now
				conn.SetDeadline(now.Add(timeout))
			}
		}
		if k > 0 {
			if _, werr := up.Write(buf[:k]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
