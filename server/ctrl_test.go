package server

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/textproto"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// ctrl is a raw control connection for tests that need exact reply codes
// or commands jlaffaye/ftp cannot send.
type ctrl struct {
	t    testing.TB
	conn net.Conn
	tp   *textproto.Conn
}

// dialCtrl connects from the local address laddr ("" for any) and reads the greeting.
func dialCtrl(t testing.TB, addr, laddr string) *ctrl {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if laddr != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(laddr)}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &ctrl{t: t, conn: conn, tp: textproto.NewConn(conn)}
	t.Cleanup(func() { conn.Close() })
	c.expect(220)
	return c
}

// cmd sends a command and returns the reply code and message.
func (c *ctrl) cmd(format string, args ...any) (int, string) {
	c.t.Helper()
	if err := c.tp.PrintfLine(format, args...); err != nil {
		c.t.Fatalf("send %q: %v", fmt.Sprintf(format, args...), err)
	}
	return c.read()
}

func (c *ctrl) read() (int, string) {
	c.t.Helper()
	code, msg, err := c.tp.ReadResponse(0)
	if err != nil && code == 0 {
		c.t.Fatalf("read reply: %v", err)
	}
	return code, msg
}

// expect reads a reply and fails unless it has the given code.
func (c *ctrl) expect(code int) string {
	c.t.Helper()
	got, msg := c.read()
	if got != code {
		c.t.Fatalf("reply %d %q, want %d", got, msg, code)
	}
	return msg
}

// must sends a command and fails unless the reply has the given code.
func (c *ctrl) must(code int, format string, args ...any) string {
	c.t.Helper()
	got, msg := c.cmd(format, args...)
	if got != code {
		c.t.Fatalf("%s: reply %d %q, want %d", fmt.Sprintf(format, args...), got, msg, code)
	}
	return msg
}

func (c *ctrl) login(user string) {
	c.t.Helper()
	c.must(331, "USER %s", user)
	c.must(230, "PASS %s", testPassword)
}

// startTLS upgrades the control connection with AUTH TLS.
func (c *ctrl) startTLS(cfg *tls.Config) {
	c.t.Helper()
	c.must(234, "AUTH TLS")
	tc := tls.Client(c.conn, cfg)
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("tls handshake: %v", err)
	}
	c.conn = tc
	c.tp = textproto.NewConn(tc)
}

var epsvPort = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)

// epsv asks for a passive port and returns the address to connect to.
func (c *ctrl) epsv() string {
	c.t.Helper()
	msg := c.must(229, "EPSV")
	m := epsvPort.FindStringSubmatch(msg)
	if m == nil {
		c.t.Fatalf("bad EPSV reply %q", msg)
	}
	host, _, _ := net.SplitHostPort(c.conn.RemoteAddr().String())
	port, _ := strconv.Atoi(m[1])
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// readAll reads a data connection to its end.
func readAllConn(t testing.TB, conn net.Conn) string {
	t.Helper()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	var b []byte
	r := bufio.NewReader(conn)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			return string(b)
		}
	}
}
