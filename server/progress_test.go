package server

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestProgressConn: a peer that keeps sending gets more than d in total,
// one that stalls is cut off with a deadline error.
func TestProgressConn(t *testing.T) {
	const d = time.Second
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		for range 8 { // 8 × 250 ms: twice d in total, never d at once
			b.Write([]byte("x"))
			time.Sleep(d / 4)
		}
		// then stall, without closing
	}()
	pc := newProgressConn(a, d)
	got, err := io.ReadAll(io.LimitReader(pc, 8))
	if err != nil || len(got) != 8 {
		t.Fatalf("steady peer: read %d bytes, %v", len(got), err)
	}
	if _, err := pc.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("stalled peer: %v, want a deadline error", err)
	}
}
