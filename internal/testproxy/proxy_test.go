package testproxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// safety bounds every read and wait so that a broken proxy fails a test
// instead of hanging it; no test expects anything to take this long.
const safety = 30 * time.Second

// backend listens on 127.0.0.1:0 and hands the server side of every
// connection to the test, which plays the server by hand.
func backend(t *testing.T) (addr string, conns <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(safety))
			ch <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-ch:
				c.Close()
			default:
				return
			}
		}
	})
	return ln.Addr().String(), ch
}

// echoServer is a plain TCP echo server; each connection echoes until EOF
// and then closes.
func echoServer(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(safety))
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// session is one client connection through p with its server side.
type session struct {
	t      *testing.T
	client net.Conn
	cr     *bufio.Reader
	server net.Conn
	sr     *bufio.Reader
}

func dial(t *testing.T, p *Proxy, conns <-chan net.Conn) *session {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(safety))
	var s net.Conn
	select {
	case s = <-conns:
	case <-time.After(safety):
		t.Fatal("the proxy never dialled the backend")
	}
	t.Cleanup(func() { s.Close() })
	return &session{t: t, client: c, cr: bufio.NewReader(c), server: s, sr: bufio.NewReader(s)}
}

// start runs a proxy to a backend the test plays by hand and opens one
// session through it; conns yields the server side of later sessions.
func start(t *testing.T, rewrite Rewrite) (p *Proxy, s *session, conns <-chan net.Conn) {
	t.Helper()
	addr, conns := backend(t)
	p = New(t, addr, rewrite)
	return p, dial(t, p, conns), conns
}

func (s *session) send(c net.Conn, line string) {
	s.t.Helper()
	if _, err := io.WriteString(c, line); err != nil {
		s.t.Fatalf("write %q: %v", line, err)
	}
}

func (s *session) expect(r *bufio.Reader, want string) {
	s.t.Helper()
	got, err := r.ReadString('\n')
	if err != nil || got != want {
		s.t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

// waitFor polls cond, failing the test if it stays false for too long.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(safety)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// isReset reports whether err is what a read on a reset connection
// returns (an RST, or an EOF if the reset raced with the read), not a
// timeout.
func isReset(err error) bool {
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

func TestRelayAndRewrite(t *testing.T) {
	p, s, _ := start(t, func(line string) (string, bool) {
		switch line {
		case "drop\r\n":
			return line, false
		case "swap\r\n":
			return "swapped\r\n", true
		}
		return line, true
	})
	s.send(s.client, "USER x\r\n")
	s.expect(s.sr, "USER x\r\n")
	s.send(s.server, "drop\r\nswap\r\nkeep\r\n")
	s.expect(s.cr, "swapped\r\n")
	s.expect(s.cr, "keep\r\n")
	if p.Accepted() != 1 {
		t.Errorf("Accepted = %d, want 1", p.Accepted())
	}
}

func TestDropFeature(t *testing.T) {
	drop := DropFeature("HASH")
	for line, keep := range map[string]bool{
		" HASH SHA-256*;MD5\r\n":  false,
		" hash SHA-256\r\n":       false,
		" MLSD size*;modify*\r\n": true,
		"211 End\r\n":             true,
	} {
		if got, ok := drop(line); ok != keep || got != line {
			t.Errorf("DropFeature(HASH)(%q) = %q, %v; want keep %v", line, got, ok, keep)
		}
	}
}

// openData sends the passive command cmd through s, answers it from the
// server side with reply (naming the echo server's port), and dials the
// data port of the reply the client gets, which must be the proxy's.
func openData(t *testing.T, s *session, cmd string, port int) net.Conn {
	t.Helper()
	s.send(s.client, cmd+"\r\n")
	s.expect(s.sr, cmd+"\r\n")
	reply := fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", port)
	if cmd == "PASV" {
		reply = fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n", port>>8, port&0xff)
	}
	s.send(s.server, reply)
	line, err := s.cr.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if cmd == "PASV" {
		var h [4]int
		var hi, lo int
		if _, err := fmt.Sscanf(line, "227 Entering Passive Mode (%d,%d,%d,%d,%d,%d).", &h[0], &h[1], &h[2], &h[3], &hi, &lo); err != nil {
			t.Fatalf("PASV reply %q: %v", line, err)
		}
		got = hi<<8 | lo
	} else {
		i, j := strings.Index(line, "|||"), strings.LastIndex(line, "|")
		if i < 0 || j <= i+3 {
			t.Fatalf("EPSV reply %q", line)
		}
		got, _ = strconv.Atoi(line[i+3 : j])
	}
	if got == port || got == 0 {
		t.Fatalf("%s reply %q still names the backend's data port %d", cmd, line, port)
	}
	d, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(got)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	d.SetDeadline(time.Now().Add(safety))
	return d
}

func TestPassiveRelay(t *testing.T) {
	for _, cmd := range []string{"EPSV", "PASV"} {
		t.Run(cmd, func(t *testing.T) {
			p, s, _ := start(t, nil)
			d := openData(t, s, cmd, echoServer(t))
			io.WriteString(d, "hello")
			d.(*net.TCPConn).CloseWrite()
			got, err := io.ReadAll(d)
			if err != nil || string(got) != "hello" {
				t.Fatalf("data through the proxy: %q, %v", got, err)
			}
			if p.Sent() != 5 {
				t.Errorf("Sent = %d, want the 5 uploaded bytes", p.Sent())
			}
		})
	}
}

func TestCutAfter(t *testing.T) {
	p, s, _ := start(t, nil)
	p.CutAfter(1000)
	// Control bytes do not count towards an upload cut.
	for range 100 {
		s.send(s.client, "NOOP 0123456789\r\n")
		s.expect(s.sr, "NOOP 0123456789\r\n")
	}
	d := openData(t, s, "EPSV", echoServer(t))
	echoed := make(chan int64, 1)
	go func() {
		n, _ := io.Copy(io.Discard, d)
		echoed <- n
	}()
	for range 100 {
		if _, err := d.Write(make([]byte, 100)); err != nil {
			break
		}
	}
	if _, err := s.cr.ReadString('\n'); !isReset(err) {
		t.Fatalf("control read after the cut: %v, want a reset", err)
	}
	if p.Cuts() != 1 {
		t.Fatalf("Cuts = %d, want 1", p.Cuts())
	}
	if sent := p.Sent(); sent < 1000 {
		t.Errorf("cut after %d upload bytes, before the 1000 armed", sent)
	}
	if n := <-echoed; n >= 1000 {
		t.Errorf("%d bytes came back through a connection cut at 1000", n)
	}
}

func TestCutAfterAny(t *testing.T) {
	p, s, _ := start(t, nil)
	s.send(s.server, "220 ready\r\n")
	s.expect(s.cr, "220 ready\r\n")
	p.CutAfterAny(20)
	s.send(s.client, "NOOP\r\n") // 6 bytes
	s.expect(s.sr, "NOOP\r\n")
	s.send(s.server, "200 NOOP ok\r\n") // 13 bytes: 19 in all
	s.expect(s.cr, "200 NOOP ok\r\n")
	if p.Cuts() != 0 {
		t.Fatalf("cut after 19 of 20 bytes")
	}
	s.send(s.server, "200 again\r\n")
	if got, err := s.cr.ReadString('\n'); !isReset(err) {
		t.Fatalf("read after 20 bytes: %q, %v; want a reset", got, err)
	}
	if _, err := s.sr.ReadString('\n'); !isReset(err) {
		t.Fatalf("server side after the cut: %v, want a reset", err)
	}
	if p.Cuts() != 1 {
		t.Errorf("Cuts = %d, want 1", p.Cuts())
	}
}

func TestStall(t *testing.T) {
	p, s, _ := start(t, nil)
	s.send(s.server, "220 ready\r\n")
	s.expect(s.cr, "220 ready\r\n")

	p.Stall(true)
	s.send(s.server, "lost reply\r\n")
	waitFor(t, "the stalled reply to be dropped", func() bool { return p.dropped.Load() >= 12 })
	s.send(s.client, "LOST\r\n")
	waitFor(t, "the stalled command to be dropped", func() bool { return p.dropped.Load() >= 18 })
	p.Stall(false)

	// Both connections stayed open, and what the stall took is gone.
	s.send(s.server, "kept reply\r\n")
	s.expect(s.cr, "kept reply\r\n")
	s.send(s.client, "KEPT\r\n")
	s.expect(s.sr, "KEPT\r\n")

	// Data connections stall too.
	d := openData(t, s, "EPSV", echoServer(t))
	p.Stall(true)
	io.WriteString(d, "lost")
	waitFor(t, "the stalled upload to be dropped", func() bool { return p.dropped.Load() >= 22 })
	p.Stall(false)
	io.WriteString(d, "kept")
	d.(*net.TCPConn).CloseWrite()
	if got, err := io.ReadAll(d); err != nil || string(got) != "kept" {
		t.Fatalf("data after the stall: %q, %v; want only %q", got, err, "kept")
	}
	if p.Sent() != 4 {
		t.Errorf("Sent = %d, want 4: dropped bytes do not count", p.Sent())
	}
}

func TestHold(t *testing.T) {
	p, s, _ := start(t, nil)
	p.Hold(time.Hour)
	s.send(s.client, "HELD\r\n")
	waitFor(t, "the proxy to read the held bytes", func() bool { return p.relayed.Load() >= 6 })
	// Correct code can never fail this check; a proxy that delivers held
	// bytes fails it on an idle machine.
	s.server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if got, err := s.sr.ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read during the hold: %q, %v; want nothing", got, err)
	}
	s.server.SetReadDeadline(time.Now().Add(safety))
	p.Calm()
	s.expect(s.sr, "HELD\r\n")
}

func TestResetAll(t *testing.T) {
	p, s, conns := start(t, nil)
	p.CutAfterAny(1 << 20)
	p.ResetAll()
	if _, err := s.cr.ReadString('\n'); !isReset(err) {
		t.Fatalf("client read after ResetAll: %v, want a reset", err)
	}
	if _, err := s.sr.ReadString('\n'); !isReset(err) {
		t.Fatalf("server read after ResetAll: %v, want a reset", err)
	}
	// New connections pass, and ResetAll disarmed the cut.
	s2 := dial(t, p, conns)
	s2.send(s2.client, strings.Repeat("x", 2<<20)+"\r\n")
	if line, err := s2.sr.ReadString('\n'); err != nil || len(line) != 2<<20+2 {
		t.Fatalf("after ResetAll: %d bytes, %v", len(line), err)
	}
	if p.Cuts() != 0 || p.Accepted() != 2 {
		t.Errorf("Cuts = %d, Accepted = %d; want 0 and 2", p.Cuts(), p.Accepted())
	}
}

func TestClose(t *testing.T) {
	p, s, _ := start(t, nil)
	p.Hold(time.Hour)
	s.send(s.client, "HELD\r\n")
	waitFor(t, "the proxy to read the held bytes", func() bool { return p.relayed.Load() >= 6 })
	p.Close() // must not wait out the hold
	p.Close()
	if _, err := s.cr.ReadString('\n'); !isReset(err) {
		t.Fatalf("client read after Close: %v, want a reset", err)
	}
	if c, err := net.Dial("tcp", p.Addr()); err == nil {
		c.Close()
		t.Fatal("a closed proxy accepted a connection")
	}
}
