package agent

import (
	"bufio"
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

// faultProxy sits between the agent and a plain-FTP server so that a test
// can make the network misbehave on demand. It relays the control
// connection line by line and rewrites EPSV replies so that the data
// connections pass through it too. Three behaviours:
//
//   - pass through (the default);
//   - cut: once the client has sent cutAfter data bytes, every connection
//     is reset (a network that dies mid-upload);
//   - stall: every byte in either direction, on control and data
//     connections alike, is read and dropped while the connections stay
//     open (a server that stops answering without closing).
type faultProxy struct {
	ln      net.Listener
	backend string

	stall    atomic.Bool
	cutAfter atomic.Int64 // 0: off
	sent     atomic.Int64 // client-to-server data bytes relayed so far

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// newFaultProxy starts a proxy to backend on 127.0.0.1:0; it stops at
// test cleanup.
func newFaultProxy(t testing.TB, backend string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, backend: backend, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Addr is the address the agent should dial.
func (p *faultProxy) Addr() string { return p.ln.Addr().String() }

// Sent is how many upload bytes have passed through so far.
func (p *faultProxy) Sent() int64 { return p.sent.Load() }

// CutAfter resets every connection once n more upload bytes have passed.
func (p *faultProxy) CutAfter(n int64) { p.cutAfter.Store(p.sent.Load() + n) }

// Stall starts or ends a stall.
func (p *faultProxy) Stall(on bool) { p.stall.Store(on) }

func (p *faultProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.killAll()
	p.wg.Wait()
}

// track registers a connection; false means the proxy is closing.
func (p *faultProxy) track(cs ...net.Conn) bool {
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

// killAll resets every connection passing through the proxy.
func (p *faultProxy) killAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = make(map[net.Conn]struct{})
	p.mu.Unlock()
	for c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
}

func (p *faultProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.control(c)
		}()
	}
}

func (p *faultProxy) control(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.backend, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, server) {
		return
	}
	defer client.Close()
	defer server.Close()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.pipe(server, client, false)
		server.Close()
	}()
	r := bufio.NewReader(server)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if p.stall.Load() {
			continue
		}
		if strings.HasPrefix(line, "229 ") {
			line = p.relayEPSV(line)
		}
		if _, err := io.WriteString(client, line); err != nil {
			return
		}
	}
}

// relayEPSV opens a data relay for the port in an EPSV reply and returns
// the reply naming the relay's port instead.
func (p *faultProxy) relayEPSV(line string) string {
	i, j := strings.Index(line, "|||"), strings.LastIndex(line, "|")
	if i < 0 || j <= i+3 {
		return line
	}
	port, err := strconv.Atoi(line[i+3 : j])
	if err != nil {
		return line
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return line
	}
	backend := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer ln.Close()
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
		client, err := ln.Accept()
		if err != nil {
			return
		}
		server, err := net.DialTimeout("tcp", backend, 5*time.Second)
		if err != nil {
			client.Close()
			return
		}
		if !p.track(client, server) {
			return
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.pipe(client, server, false)
			client.(*net.TCPConn).CloseWrite()
		}()
		p.pipe(server, client, true)
		server.(*net.TCPConn).CloseWrite()
		<-done
		client.Close()
		server.Close()
	}()
	return fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", ln.Addr().(*net.TCPAddr).Port)
}

// pipe copies src to dst, dropping bytes during a stall; upload bytes are
// counted and may trigger the cut.
func (p *faultProxy) pipe(dst, src net.Conn, upload bool) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.stall.Load() {
			if upload {
				total := p.sent.Add(int64(n))
				if limit := p.cutAfter.Load(); limit > 0 && total >= limit {
					p.cutAfter.Store(0)
					p.killAll()
					return
				}
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
