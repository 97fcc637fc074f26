package ftpfs

import (
	"bytes"
	"crypto/rand"
	"net"
	"testing"
)

// TestReceiveFrom receives an upload from a real TCP connection (spliced
// on Linux), across several writeback chunks, and checks what is
// committed and what before was told.
func TestReceiveFrom(t *testing.T) {
	e := newTestEnv(t, Options{})
	data := make([]byte, 2*writebackChunk+12345)
	rand.Read(data)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		c.Write(data)
		c.Close()
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, err := e.fs.Create("/big.bin", CreateTruncate, 0)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hashing() {
		t.Fatal("upload without a digest cache is hashed")
	}
	var calls int
	var last int64
	n, err := u.ReceiveFrom(c, func(done int64) { calls++; last = done })
	if err != nil || n != int64(len(data)) {
		t.Fatalf("ReceiveFrom = %d, %v; want %d", n, err, len(data))
	}
	if calls < 3 || last != n {
		t.Errorf("before called %d times, last with %d; want ≥ 3 and %d", calls, last, n)
	}
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := e.readHome(t, "big.bin"); !bytes.Equal([]byte(got), data) {
		t.Errorf("committed file differs (%d bytes, want %d)", len(got), len(data))
	}
	e.checkTempEmpty(t, "receive")
}
