package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// transfer is one data-connection operation running in its own goroutine.
type transfer struct {
	verb    string
	path    string
	started time.Time
	bytes   atomic.Int64
	aborted atomic.Bool
	// replying is set just before the final reply is written: a command
	// read after that was sent after the transfer ended (the client saw
	// 226), so it must not be taken for a STAT or ABOR of this transfer.
	replying atomic.Bool
	done     chan struct{}

	// Where the data connection comes from, taken from the session when the
	// transfer starts so the session goroutine no longer touches them.
	ln     *passiveListener
	active *net.TCPAddr
	protP  bool

	mu   sync.Mutex
	conn net.Conn // the data connection, once open
}

func (x *transfer) finished() bool {
	select {
	case <-x.done:
		return true
	default:
		return false
	}
}

// abort closes the data connection so the transfer goroutine stops.
func (x *transfer) abort() {
	x.aborted.Store(true)
	x.mu.Lock()
	if x.conn != nil {
		x.conn.Close()
	}
	if x.ln != nil {
		x.ln.Close()
	}
	x.mu.Unlock()
}

func (x *transfer) setConn(c net.Conn) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.aborted.Load() {
		return false
	}
	x.conn = c
	return true
}

// startTransfer replies 150, opens the data connection and runs fn on it in
// a goroutine. fn returns the final reply; the data connection is closed
// before it is sent. When no data connection could be opened (or ABOR came
// first), fn is called with a nil connection so it can release what it
// holds (the open file, the temporary upload), and its reply is ignored.
func (s *session) startTransfer(verb, path, opening string, fn func(x *transfer, c net.Conn) (int, string)) {
	if !s.dataReady() {
		fn(&transfer{verb: verb, path: path}, nil)
		s.reply(codeCantOpenData, "Use PASV, EPSV, PORT or EPRT first.")
		return
	}
	if (s.srv.Config.TLS.Require || s.user != nil && s.user.TLSRequired) && !s.protP {
		fn(&transfer{verb: verb, path: path}, nil)
		s.closePassive()
		s.reply(codeNeedProtection, "This server requires protected data connections (PROT P).")
		return
	}
	if s.pasv != nil && !s.pasv.take() {
		fn(&transfer{verb: verb, path: path}, nil)
		s.closePassive()
		s.reply(codeCantOpenData, "Passive port timed out unused; send PASV or EPSV again.")
		return
	}
	x := &transfer{verb: verb, path: path, started: time.Now(), done: make(chan struct{}),
		ln: s.pasv, active: s.active, protP: s.protP}
	s.pasv, s.active = nil, nil
	s.mu.Lock()
	s.xfer = x
	s.mu.Unlock()
	s.reply(codeDataOpening, opening)
	go func() {
		defer close(x.done)
		code, msg := s.runTransfer(x, fn)
		x.replying.Store(true)
		s.replyText(code, msg)
		if s.isClosing() {
			s.reply(codeUnavailable, "Server shutting down; closing control connection.")
			s.closeConn()
		}
	}()
}

func (s *session) runTransfer(x *transfer, fn func(x *transfer, c net.Conn) (int, string)) (int, string) {
	c, err := s.openData(x)
	if err != nil {
		fn(x, nil)
		if x.aborted.Load() {
			return codeTransferAborted, "Transfer aborted."
		}
		s.log.Info("data connection failed", "verb", x.verb, "err", err)
		return codeCantOpenData, "Cannot open data connection: " + err.Error()
	}
	if !x.setConn(c) {
		c.Close()
		fn(x, nil)
		return codeTransferAborted, "Transfer aborted."
	}
	code, msg := fn(x, c)
	c.Close()
	if x.aborted.Load() && code < 400 {
		code, msg = codeTransferAborted, "Transfer aborted."
	}
	result := "ok"
	if code >= 400 {
		result = msg
	}
	if x.verb != "LIST" && x.verb != "NLST" && x.verb != "MLSD" && x.verb != "SITE TREE" {
		s.log.Info("transfer", "verb", x.verb, "path", x.path, "bytes", x.bytes.Load(),
			"duration", time.Since(x.started).Round(time.Microsecond), "result", result)
	}
	return code, msg
}

func (s *session) transferRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.xfer != nil && !s.xfer.finished()
}

// transferAcceptsCommands reports whether a transfer is running and has
// not begun its final reply, so ABOR, STAT and NOOP apply to it.
func (s *session) transferAcceptsCommands() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.xfer != nil && !s.xfer.finished() && !s.xfer.replying.Load()
}

func (s *session) waitTransfer() {
	s.mu.Lock()
	x := s.xfer
	s.mu.Unlock()
	if x != nil {
		<-x.done
	}
}

// abortTransfer stops a running transfer and waits until it has replied.
func (s *session) abortTransfer() {
	s.mu.Lock()
	x := s.xfer
	s.mu.Unlock()
	s.closePassive()
	if x == nil {
		return
	}
	x.abort()
	<-x.done
}

func (s *session) transferStatus() string {
	s.mu.Lock()
	x := s.xfer
	s.mu.Unlock()
	if x == nil {
		return "No transfer in progress."
	}
	return fmt.Sprintf("%s %s: %d bytes in %s.", x.verb, x.path, x.bytes.Load(), time.Since(x.started).Round(time.Millisecond))
}

func (s *session) dataReady() bool { return s.pasv != nil || s.active != nil }

func (s *session) closePassive() {
	if s.pasv != nil {
		s.pasv.Close()
		s.pasv = nil
	}
	s.active = nil
}

// openData accepts (passive) or dials (active) the data connection, then
// wraps it in TLS when PROT P is in force.
func (s *session) openData(x *transfer) (net.Conn, error) {
	var c net.Conn
	var err error
	if x.ln != nil {
		c, err = s.acceptPassive(x.ln)
		x.ln.Close()
	} else {
		d := net.Dialer{Timeout: s.srv.dataTimeout()}
		c, err = d.Dial("tcp", x.active.String())
	}
	if err != nil {
		return nil, err
	}
	if !x.protP {
		return c, nil
	}
	tc := tls.Server(c, s.tlsConf)
	tc.SetDeadline(time.Now().Add(s.srv.dataTimeout()))
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, fmt.Errorf("tls handshake on data connection: %w", err)
	}
	tc.SetDeadline(time.Time{})
	if s.srv.Config.TLS.RequireSessionReuse && !tc.ConnectionState().DidResume {
		c.Close()
		return nil, errors.New("TLS session of the data connection must resume the control connection's session")
	}
	return tc, nil
}

// acceptPassive waits for the data connection from the client's own IP;
// connections from any other address are dropped (PASV theft).
func (s *session) acceptPassive(ln *passiveListener) (net.Conn, error) {
	ln.SetDeadline(time.Now().Add(s.srv.dataTimeout()))
	for {
		c, err := ln.Accept()
		if err != nil {
			return nil, err
		}
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok && ta.IP.Equal(s.remoteIP) {
			return c, nil
		}
		s.log.Warn("data connection from foreign address dropped", "from", c.RemoteAddr().String())
		c.Close()
	}
}

// listenTCP opens a listener on the control connection's local IP, on a
// free port of passive_ports (any free port when unset).
func (s *session) listenTCP() (*net.TCPListener, error) {
	local := s.raw.LocalAddr().(*net.TCPAddr)
	lo, hi := s.srv.Config.PassivePortRange()
	if lo == 0 {
		return net.ListenTCP("tcp", &net.TCPAddr{IP: local.IP, Zone: local.Zone})
	}
	n := hi - lo + 1
	start := rand.IntN(n)
	var lastErr error
	for i := range n {
		port := lo + (start+i)%n
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: local.IP, Port: port, Zone: local.Zone})
		if err == nil {
			return ln, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("%w in %d-%d: %w", errNoPassivePort, lo, hi, lastErr)
}

func (s *session) handlePASV(string) {
	ip := s.announceIP()
	if ip == nil {
		s.reply(codeCantOpenData, "PASV works over IPv4 only; use EPSV.")
		return
	}
	ln, ok := s.openPassive()
	if !ok {
		return
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s.reply(codePassive, fmt.Sprintf("Entering Passive Mode (%d,%d,%d,%d,%d,%d).", ip[0], ip[1], ip[2], ip[3], port>>8, port&0xff))
}

// announceIP is the IPv4 address to put in a PASV reply: public_host when
// set, else the control connection's local address.
func (s *session) announceIP() net.IP {
	if h := s.srv.Config.PublicHost; h != "" {
		if ip := net.ParseIP(h); ip != nil {
			return ip.To4()
		}
		if ips, err := net.LookupIP(h); err == nil {
			for _, ip := range ips {
				if v4 := ip.To4(); v4 != nil {
					return v4
				}
			}
		}
		return nil
	}
	return s.raw.LocalAddr().(*net.TCPAddr).IP.To4()
}

func (s *session) handleEPSV(arg string) {
	switch strings.ToUpper(strings.TrimSpace(arg)) {
	case "", "ALL", "1", "2":
	default:
		s.reply(codeProtoNotSupp, "Network protocol not supported, use (1,2).")
		return
	}
	ln, ok := s.openPassive()
	if !ok {
		return
	}
	s.reply(codeExtPassive, fmt.Sprintf("Entering Extended Passive Mode (|||%d|).", ln.Addr().(*net.TCPAddr).Port))
}

func (s *session) handlePORT(arg string) {
	parts := strings.Split(arg, ",")
	if len(parts) != 6 {
		s.reply(codeParamSyntax, "PORT needs h1,h2,h3,h4,p1,p2.")
		return
	}
	var b [6]byte
	for i, p := range parts {
		v, err := strconv.ParseUint(strings.TrimSpace(p), 10, 8)
		if err != nil {
			s.reply(codeParamSyntax, "PORT needs h1,h2,h3,h4,p1,p2.")
			return
		}
		b[i] = byte(v)
	}
	s.setActive(net.IPv4(b[0], b[1], b[2], b[3]), int(b[4])<<8|int(b[5]))
}

func (s *session) handleEPRT(arg string) {
	if len(arg) < 2 {
		s.reply(codeParamSyntax, "EPRT needs |proto|addr|port|.")
		return
	}
	f := strings.Split(arg[1:], arg[:1])
	if len(f) != 4 || f[3] != "" {
		s.reply(codeParamSyntax, "EPRT needs |proto|addr|port|.")
		return
	}
	ip := net.ParseIP(f[1])
	port, err := strconv.Atoi(f[2])
	if ip == nil || err != nil || port < 1 || port > 65535 || (f[0] != "1" && f[0] != "2") ||
		(f[0] == "1") != (ip.To4() != nil) {
		if f[0] != "1" && f[0] != "2" {
			s.reply(codeProtoNotSupp, "Network protocol not supported, use (1,2).")
			return
		}
		s.reply(codeParamSyntax, "EPRT needs |proto|addr|port|.")
		return
	}
	s.setActive(ip, port)
}

// setActive checks an active-mode target: allowed only when active_mode is
// on, only to the client's own address and only to an unprivileged port
// (no FTP bounce, RFC 2577).
func (s *session) setActive(ip net.IP, port int) {
	switch {
	case !s.srv.Config.ActiveMode:
		s.reply(codeNotImplemented, "Active mode is disabled on this server; use PASV or EPSV.")
	case !ip.Equal(s.remoteIP):
		s.log.Warn("active mode to foreign address refused", "target", ip.String())
		s.reply(codeParamSyntax, "Active mode only to your own address.")
	case port < 1024:
		s.reply(codeParamSyntax, "Active mode only to ports 1024 and above.")
	default:
		s.closePassive()
		s.active = &net.TCPAddr{IP: ip, Port: port}
		s.reply(codeOK, "Active mode data connection accepted.")
	}
}

func (s *session) handleABOR(string) {
	s.closePassive()
	s.reply(codeTransferComplete, "No transfer to abort.")
}
