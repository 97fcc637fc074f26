package remote

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
)

// ftpProxy sits between the client and a plain-FTP server so that tests
// can make the network misbehave on demand. It reads the server's control
// replies line by line: it can rewrite them (to hide a FEAT line), it
// rewrites EPSV replies so that data connections pass through it too, it
// can swallow every reply while keeping the connections open (a hung
// server), and it can kill every connection once the client has sent a
// number of data bytes (a network that dies mid-upload).
type ftpProxy struct {
	t       testing.TB
	ln      net.Listener
	backend string
	rewrite func(line string) (string, bool) // false drops the line

	hang     atomic.Bool
	cutAfter atomic.Int64 // 0: off; else total upload bytes after which all connections die
	sent     atomic.Int64
	accepted atomic.Int64 // control connections

	mu    sync.Mutex
	conns []*net.TCPConn
	wg    sync.WaitGroup
}

// newProxy starts a proxy to backend; rewrite (may be nil) sees every
// control reply line.
func newProxy(t testing.TB, backend string, rewrite func(string) (string, bool)) *ftpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &ftpProxy{t: t, ln: ln, backend: backend, rewrite: rewrite}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.killAll()
		p.wg.Wait()
	})
	return p
}

func (p *ftpProxy) Addr() string { return p.ln.Addr().String() }

func (p *ftpProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c.(*net.TCPConn))
	p.mu.Unlock()
}

// killAll resets every connection that passes through the proxy.
func (p *ftpProxy) killAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.SetLinger(0)
		c.Close()
	}
}

func (p *ftpProxy) serve() {
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

func (p *ftpProxy) control(client net.Conn) {
	server, err := net.Dial("tcp", p.backend)
	if err != nil {
		client.Close()
		return
	}
	p.track(client)
	p.track(server)
	defer client.Close()
	defer server.Close()
	go func() {
		io.Copy(server, client)
		server.Close()
	}()
	r := bufio.NewReader(server)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if p.hang.Load() {
			continue
		}
		if p.rewrite != nil {
			var keep bool
			if line, keep = p.rewrite(line); !keep {
				continue
			}
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
// the reply with the relay's port instead.
func (p *ftpProxy) relayEPSV(line string) string {
	i, j := strings.Index(line, "|||"), strings.LastIndex(line, "|")
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
		client, err := ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", backend)
		if err != nil {
			client.Close()
			return
		}
		p.track(client)
		p.track(server)
		done := make(chan struct{})
		go func() {
			defer close(done)
			io.Copy(client, server)
			client.(*net.TCPConn).CloseWrite()
		}()
		p.upload(server, client)
		server.(*net.TCPConn).CloseWrite()
		<-done
		client.Close()
		server.Close()
	}()
	return fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", ln.Addr().(*net.TCPAddr).Port)
}

// upload copies client→server data, killing everything once cutAfter
// bytes have passed.
func (p *ftpProxy) upload(dst, src net.Conn) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			total := p.sent.Add(int64(n))
			if limit := p.cutAfter.Load(); limit > 0 && total >= limit {
				p.cutAfter.Store(0)
				p.killAll()
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

// dropFeature is a rewrite that hides a FEAT line.
func dropFeature(name string) func(string) (string, bool) {
	return func(line string) (string, bool) {
		return line, !strings.HasPrefix(strings.ToUpper(line), " "+name)
	}
}
