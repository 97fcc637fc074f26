//go:build unix

package ftpfs

import (
	"bytes"
	"errors"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenFIFO checks that a FIFO a local user left in a home neither
// blocks RETR nor is served.
func TestOpenFIFO(t *testing.T) {
	e := newTestEnv(t, Options{})
	if err := syscall.Mkfifo(filepath.Join(e.homeDir, "fifo"), 0o644); err != nil {
		t.Skipf("cannot create a FIFO: %v", err)
	}
	if _, err := e.fs.Open("/fifo"); !errors.Is(err, ErrPermission) {
		t.Errorf("Open(fifo) = %v, want ErrPermission", err)
	}
	if u, err := e.fs.Create("/fifo", CreateAppend, 0); !errors.Is(err, ErrPermission) {
		t.Errorf("append to a FIFO = %v, want ErrPermission", err)
		if u != nil {
			u.Abort()
		}
	}
	e.checkUntouched(t, "fifo")
}

// TestTransferOverTCP sends a file from Open to a loopback TCP connection
// and receives an upload from one, as the data channel does (sendfile and
// splice where the OS has them).
func TestTransferOverTCP(t *testing.T) {
	e := newTestEnv(t, Options{})
	payload := bytes.Repeat([]byte("data channel "), 50000)
	upload(t, e.fs, "/src.bin", CreateTruncate, 0, string(payload))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r, err := e.fs.Open("/src.bin")
		if err != nil {
			return
		}
		defer r.Close()
		io.Copy(c, r)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, err := e.fs.Create("/dst.bin", CreateTruncate, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(u.File(), c); err != nil {
		u.Abort()
		t.Fatal(err)
	}
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := e.readHome(t, "dst.bin"); got != string(payload) {
		t.Errorf("round trip: got %d bytes, want %d", len(got), len(payload))
	}
}
