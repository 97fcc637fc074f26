package server

import (
	"net"
	"time"
)

// progressConn is a data connection whose deadline moves forward as it is
// used, so a long transfer is bounded by its progress, not its total time:
// a peer that lets a read or a write wait for d is dropped. The deadline
// is moved before an operation once an eighth of d has passed since it was
// last moved (a timer update per read would cost more than a small read),
// so every operation has at least 7/8 of d. Used by one goroutine.
type progressConn struct {
	net.Conn
	d     time.Duration
	moved time.Time
}

func newProgressConn(c net.Conn, d time.Duration) *progressConn {
	return &progressConn{Conn: c, d: d}
}

func (p *progressConn) touch() {
	if now := time.Now(); now.Sub(p.moved) >= p.d/8 {
		p.moved = now
		p.Conn.SetDeadline(now.Add(p.d))
	}
}

func (p *progressConn) Read(b []byte) (int, error) {
	p.touch()
	return p.Conn.Read(b)
}

func (p *progressConn) Write(b []byte) (int, error) {
	p.touch()
	return p.Conn.Write(b)
}
