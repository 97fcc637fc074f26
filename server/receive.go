package server

import (
	"errors"
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
const recvBufSize = 256 << 10

var recvBufs = sync.Pool{New: func() any { b := make([]byte, recvBufSize); return &b }}

// receiveData copies src into the upload up until EOF, one full buffer at
// a time, and counts bytes in n. conn's deadline is pushed back as data
// arrives, so only a peer that sends nothing for timeout is dropped.
//
// Receiving and storing overlap: while one buffer is written to the file
// and hashed (by a goroutine of its own, the only one writing to up while
// receiveData runs), the next is filled from the network.
func receiveData(up *ftpfs.Upload, src io.Reader, conn net.Conn, timeout time.Duration, n *atomic.Int64) error {
	if !up.Hashing() && src == io.Reader(conn) {
		// Not hashed (too many uploads at once are): zero-copy, and no
		// buffer held per upload.
		var last int64
		_, err := up.ReceiveFrom(conn, func(done int64) {
			n.Add(done - last)
			last = done
			conn.SetDeadline(time.Now().Add(timeout))
		})
		return err
	}
	free := make(chan []byte, 2)
	for range 2 {
		bp := recvBufs.Get().(*[]byte)
		defer recvBufs.Put(bp)
		free <- *bp
	}
	full := make(chan []byte, 1)
	var werr error // set by the writer before it closes written
	var failed atomic.Bool
	written := make(chan struct{})
	go func() {
		defer close(written)
		for b := range full {
			if werr == nil {
				if _, err := up.Write(b); err != nil {
					werr = err
					failed.Store(true)
				}
			}
			free <- b[:cap(b)]
		}
	}()
	err := fill(src, conn, timeout, n, free, full, failed.Load)
	close(full)
	<-written
	if werr != nil {
		return werr
	}
	return err
}

// errStoreFailed stops the receipt of an upload that can no longer be
// stored; the writer's error is the one reported.
var errStoreFailed = errors.New("store failed")

// fill reads src into buffers taken from free and hands each full one (or
// the last, partial one) to full, until EOF (nil), an error, or stop says
// the data can no longer be stored.
func fill(src io.Reader, conn net.Conn, timeout time.Duration, n *atomic.Int64, free <-chan []byte, full chan<- []byte,
	stop func() bool) error {
	// Moving the deadline costs a timer update: do it when an eighth of the
	// timeout has passed, not on every read.
	refresh := timeout / 8
	last := time.Now()
	conn.SetDeadline(last.Add(timeout))
	for {
		buf := <-free
		if stop() {
			return errStoreFailed
		}
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
			full <- buf[:k]
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
