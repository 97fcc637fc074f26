package testproxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// dialTimeout bounds every dial to the backend.
	dialTimeout = 5 * time.Second
	// acceptTimeout bounds how long a data relay waits for its client.
	acceptTimeout = 30 * time.Second
	bufSize       = 32 << 10
)

// Rewrite sees one control reply line from the server, CRLF included,
// and returns the line to relay instead; false drops it. The proxy calls
// it once per line, in order, from the goroutine relaying that control
// connection; calls for different control connections may run at once, so
// a Rewrite that keeps state must lock it.
type Rewrite func(line string) (string, bool)

// DropFeature is a Rewrite that hides the FEAT line of the feature name
// (such as "HASH"), as a server without it would.
func DropFeature(name string) Rewrite {
	return func(line string) (string, bool) {
		return line, !strings.HasPrefix(strings.ToUpper(line), " "+name)
	}
}

// Proxy relays FTP between clients and one backend server, data
// connections included, and injects faults on demand. Faults apply to
// every connection at once, the ones open and the ones to come, until
// turned off. Every method is safe for concurrent use, also while
// connections are being relayed.
type Proxy struct {
	ln      net.Listener
	backend string
	rewrite Rewrite

	stall    atomic.Bool
	oneLine  atomic.Bool  // pass only the first command of each client read
	sent     atomic.Int64 // client-to-server bytes on data connections
	relayed  atomic.Int64 // every byte, either direction, control and data
	dropped  atomic.Int64 // bytes a stall dropped
	accepted atomic.Int64 // control connections
	requests atomic.Int64 // reads of client bytes on control connections
	cuts     atomic.Int64

	mu       sync.Mutex
	cut      cutPoint
	holdTill time.Time
	wake     chan struct{} // closed and replaced when a hold ends early
	conns    map[net.Conn]struct{}
	lns      map[net.Listener]struct{} // data relays waiting for their client
	closed   bool
	done     chan struct{} // closed by Close
	wg       sync.WaitGroup
}

// cutPoint is an armed cut: once the counter it watches reaches at,
// every connection is reset.
type cutPoint struct {
	armed bool
	any   bool // watch relayed, not sent
	at    int64
}

// New starts a proxy to the FTP server at backend (host:port) on
// 127.0.0.1:0; rewrite, if not nil, sees every control reply line. The
// proxy closes at tb's cleanup.
func New(tb testing.TB, backend string, rewrite Rewrite) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{
		ln:      ln,
		backend: backend,
		rewrite: rewrite,
		wake:    make(chan struct{}),
		conns:   make(map[net.Conn]struct{}),
		lns:     make(map[net.Listener]struct{}),
		done:    make(chan struct{}),
	}
	p.wg.Add(1)
	go p.serve()
	tb.Cleanup(p.Close)
	return p
}

// Addr is the address clients should dial instead of the backend's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted is how many control connections the proxy has accepted.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Requests is how many times the proxy read bytes from a client on a
// control connection. A client that sends a command, or a burst of
// pipelined commands, only after reading the replies to what it sent
// before is read once per burst on loopback: Requests counts its round
// trips.
func (p *Proxy) Requests() int64 { return p.requests.Load() }

// Sent is how many client-to-server bytes of data connections (uploads)
// have passed so far; bytes dropped by a stall do not count.
func (p *Proxy) Sent() int64 { return p.sent.Load() }

// Cuts is how many cuts armed by CutAfter or CutAfterAny have fired.
func (p *Proxy) Cuts() int64 { return p.cuts.Load() }

// CutAfter arms a cut: once n more upload bytes (see Sent) have passed,
// every connection is reset, as by a network that dies mid-upload. The
// bytes of the read that reaches n are not delivered. It replaces any
// cut armed before; a cut fires once.
func (p *Proxy) CutAfter(n int64) {
	p.mu.Lock()
	p.cut = cutPoint{armed: true, at: p.sent.Load() + n}
	p.mu.Unlock()
}

// CutAfterAny is CutAfter counting every byte relayed, in either
// direction, on control and data connections alike.
func (p *Proxy) CutAfterAny(n int64) {
	p.mu.Lock()
	p.cut = cutPoint{armed: true, any: true, at: p.relayed.Load() + n}
	p.mu.Unlock()
}

// Stall starts or ends a stall: while on, every byte in either direction,
// on control and data connections alike, is read and dropped, and the
// connections stay open (a server that stops answering without closing).
// Dropped bytes are lost for good.
func (p *Proxy) Stall(on bool) { p.stall.Store(on) }

// FirstCommandOnly turns on or off a server that cannot take pipelined
// commands: of the bytes a client sends on a control connection in one
// go, only the first line reaches the server, the rest is dropped, as by
// a server that reads one command per receive and discards what follows.
func (p *Proxy) FirstCommandOnly(on bool) { p.oneLine.Store(on) }

// Hold delays every byte that arrives in the next d until d has passed;
// unlike a stall, nothing is lost. A later Hold or Calm replaces it.
func (p *Proxy) Hold(d time.Duration) {
	p.mu.Lock()
	p.holdTill = time.Now().Add(d)
	p.wakeLocked()
	p.mu.Unlock()
}

// Calm turns every fault off: it disarms the cut, ends a stall and ends a
// hold, delivering the held bytes.
func (p *Proxy) Calm() {
	p.stall.Store(false)
	p.mu.Lock()
	p.cut = cutPoint{}
	p.holdTill = time.Time{}
	p.wakeLocked()
	p.mu.Unlock()
}

// ResetAll resets (RST, not FIN) every connection open through the proxy
// now and disarms the cut; new connections are relayed as before.
func (p *Proxy) ResetAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = make(map[net.Conn]struct{})
	p.cut = cutPoint{}
	p.mu.Unlock()
	for c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
}

// Close stops the proxy: it stops accepting, resets every connection and
// waits for its goroutines. New arranges for it at cleanup; calling it
// again does nothing.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	lns := p.lns
	p.lns = nil
	p.mu.Unlock()
	p.ln.Close()
	for ln := range lns {
		ln.Close()
	}
	p.ResetAll()
	p.wg.Wait()
}

func (p *Proxy) wakeLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// track registers connections so that a reset finds them; false means the
// proxy is closing, and they are closed.
func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.control(c)
		}()
	}
}

// connect dials target for client, tracking both. The client is tracked
// before the dial and the server as soon as it answers: a reset right
// after the backend accepted (a test may already hold its side) must find
// them. false: nothing to relay, and client is closed.
func (p *Proxy) connect(client net.Conn, target string) (net.Conn, bool) {
	if !p.track(client) {
		return nil, false
	}
	server, err := net.DialTimeout("tcp", target, dialTimeout)
	if err != nil {
		client.Close()
		return nil, false
	}
	if !p.track(server) {
		client.Close()
		return nil, false
	}
	return server, true
}

// control relays one control connection: client to server as bytes,
// server to client line by line.
func (p *Proxy) control(client net.Conn) {
	server, ok := p.connect(client, p.backend)
	if !ok {
		return
	}
	defer client.Close()
	defer server.Close()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.pipe(server, client, false, &p.requests)
		server.Close()
	}()
	r := bufio.NewReader(server)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if p.stall.Load() {
			p.dropped.Add(int64(len(line)))
			continue
		}
		if p.rewrite != nil {
			var keep bool
			if line, keep = p.rewrite(line); !keep {
				continue
			}
		}
		line = p.relayPassive(line)
		if !p.pass(len(line), false) {
			return
		}
		if _, err := io.WriteString(client, line); err != nil {
			return
		}
	}
}

// pipe copies src to dst until either fails, dropping bytes during a
// stall; upload marks client-to-server data, which Sent counts. reads, if
// not nil, counts the reads that returned bytes.
func (p *Proxy) pipe(dst, src net.Conn, upload bool, reads *atomic.Int64) {
	buf := make([]byte, bufSize)
	for {
		n, err := src.Read(buf)
		if n > 0 && reads != nil {
			reads.Add(1)
			if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 && p.oneLine.Load() {
				p.dropped.Add(int64(n - i - 1))
				n = i + 1
			}
		}
		if n > 0 && p.stall.Load() {
			p.dropped.Add(int64(n))
		} else if n > 0 {
			if !p.pass(n, upload) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// pass accounts n bytes about to be relayed and waits out a hold; false
// means they reached the armed cut, which has reset every connection.
func (p *Proxy) pass(n int, upload bool) bool {
	sent := p.sent.Load()
	if upload {
		sent = p.sent.Add(int64(n))
	}
	relayed := p.relayed.Add(int64(n))
	p.mu.Lock()
	c := p.cut
	fire := c.armed && ((c.any && relayed >= c.at) || (!c.any && upload && sent >= c.at))
	if fire {
		p.cut = cutPoint{}
	}
	p.mu.Unlock()
	if fire {
		p.cuts.Add(1)
		p.ResetAll()
		return false
	}
	p.hold()
	return true
}

// hold waits until the current hold ends, is called off, or the proxy
// closes.
func (p *Proxy) hold() {
	for {
		p.mu.Lock()
		wait, wake := time.Until(p.holdTill), p.wake
		p.mu.Unlock()
		if wait <= 0 {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-wake:
		case <-p.done:
			t.Stop()
			return
		}
		t.Stop()
	}
}

// relayPassive opens a data relay for the port of an EPSV (229) or PASV
// (227) reply and returns the reply naming the relay instead. Like the
// agent's client, it ignores a PASV reply's address and dials the
// backend's host. Other lines, and replies it cannot parse, pass as they
// are.
func (p *Proxy) relayPassive(line string) string {
	var port int
	switch {
	case strings.HasPrefix(line, "229 "):
		i, j := strings.Index(line, "|||"), strings.LastIndex(line, "|")
		if i < 0 || j <= i+3 {
			return line
		}
		n, err := strconv.Atoi(line[i+3 : j])
		if err != nil {
			return line
		}
		port = n
	case strings.HasPrefix(line, "227 "):
		i, j := strings.Index(line, "("), strings.LastIndex(line, ")")
		if i < 0 || j <= i {
			return line
		}
		f := strings.Split(line[i+1:j], ",")
		if len(f) != 6 {
			return line
		}
		hi, err1 := strconv.Atoi(strings.TrimSpace(f[4]))
		lo, err2 := strconv.Atoi(strings.TrimSpace(f[5]))
		if err1 != nil || err2 != nil {
			return line
		}
		port = hi<<8 | lo
	default:
		return line
	}
	host, _, err := net.SplitHostPort(p.backend)
	if err != nil {
		return line
	}
	relay, ok := p.relayData(net.JoinHostPort(host, strconv.Itoa(port)))
	if !ok {
		return line
	}
	if strings.HasPrefix(line, "229 ") {
		return fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", relay)
	}
	return fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n", relay>>8, relay&0xff)
}

// relayData listens on 127.0.0.1:0 for one data connection, relays it to
// target, and returns the port it listens on.
func (p *Proxy) relayData(target string) (int, bool) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, false
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		ln.Close()
		return 0, false
	}
	p.lns[ln] = struct{}{}
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(acceptTimeout))
		client, err := ln.Accept()
		p.mu.Lock()
		delete(p.lns, ln)
		p.mu.Unlock()
		ln.Close()
		if err != nil {
			return
		}
		server, ok := p.connect(client, target)
		if !ok {
			return
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.pipe(client, server, false, nil)
			client.(*net.TCPConn).CloseWrite()
		}()
		p.pipe(server, client, true, nil)
		server.(*net.TCPConn).CloseWrite()
		<-done
		client.Close()
		server.Close()
	}()
	return ln.Addr().(*net.TCPAddr).Port, true
}
