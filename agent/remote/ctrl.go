package remote

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"time"
)

// FTP reply codes this package looks at (RFC 959 section 4.2, RFC 4217).
const (
	codeReady          = 220
	codeLoggedIn       = 230
	codeAuthOK         = 234
	codeNeedPassword   = 331
	codeFileStatus     = 213
	codeSystemStatus   = 211
	codeCommandOK      = 200
	codeExtPassive     = 229
	codePassive        = 227
	codeClosingData    = 226
	codeFileActionOK   = 250
	codeServiceClosing = 421
	codeFileBusy       = 450 // SITE BATCH: the client dropped the file
	codeLocalError     = 451 // SITE TREE could not list the whole tree; SITE BATCH: a file's SHA-256 did not match
)

// ctrlSession is a pooled connection's one control connection and its one
// login. It sends every command the package needs itself, except LIST and
// RETR, which go through a jlaffaye/ftp ServerConn made on the same
// connection (see ftpOnSession). It is used by one goroutine at a time
// (the borrower of its slot).
type ctrlSession struct {
	tp       *textproto.Conn
	conn     net.Conn // the control connection under tp (TLS once AUTH TLS is done)
	host     string   // the control connection's peer IP, used for data connections
	tlsConf  *tls.Config
	prot     bool // PROT P: data connections use TLS
	dialer   *dataDialer
	caps     Caps
	hashOn   bool // OPTS HASH SHA-256 was accepted
	noEPSV   bool // EPSV was refused once: go straight to PASV
	passive  bool // the passive command worked here: send it with the next (see transfer)
	serial   bool // the server does not take pipelined commands: send one at a time
	greeting string
}

// dataDialer makes data connections that belong to one slot.
type dataDialer struct {
	ctx     context.Context
	set     *connSet
	cfg     Config
	tlsConf *tls.Config // nil: plain data connections
}

func (d *dataDialer) dial(addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.cfg.DialTimeout}
	c, err := nd.DialContext(d.ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial data connection: %w", err)
	}
	var w net.Conn = d.set.watch(c, d.cfg.OpTimeout)
	if d.cfg.WrapData != nil {
		w = d.cfg.WrapData(w)
	}
	if d.tlsConf == nil {
		return w, nil
	}
	// The handshake happens on first use, as jlaffaye/ftp does it: some
	// servers only start theirs after the transfer command.
	return &tlsDataConn{Conn: tls.Client(w, d.tlsConf), drain: d.cfg.OpTimeout}, nil
}

// tlsDataConn closes a TLS data connection without a reset. A TLS 1.3
// server sends session tickets after the handshake; an uploading client
// never reads them, and closing a socket with unread bytes makes the kernel
// send RST instead of FIN, which can discard upload data the server has not
// read yet (it then answers 426). So Close sends close_notify, reads until
// the server closes (it does once it has stored everything), then closes.
// Safe for use by one goroutine, like the connection it wraps.
type tlsDataConn struct {
	*tls.Conn
	drain time.Duration
}

func (c *tlsDataConn) Close() error {
	if c.Conn.CloseWrite() == nil {
		// Bounded: a download abandoned half-way is not read to its end.
		c.Conn.SetReadDeadline(time.Now().Add(c.drain))
		io.CopyN(io.Discard, c.Conn, 1<<20)
	}
	return c.Conn.Close()
}

// dialControl opens a control connection: plain TCP for none and explicit
// (AUTH TLS comes later), TLS from the first byte for implicit.
func dialControl(ctx context.Context, cfg Config, set *connSet, tc *tls.Config) (net.Conn, *watchedConn, error) {
	nd := net.Dialer{Timeout: cfg.DialTimeout}
	c, err := nd.DialContext(ctx, "tcp", cfg.Address)
	if err != nil {
		return nil, nil, err // "dial tcp ADDR: ..." names the address already
	}
	w := set.watch(c, cfg.OpTimeout)
	if cfg.TLS != TLSImplicit {
		return w, w, nil
	}
	tconn := tls.Client(w, tc)
	if err := tconn.HandshakeContext(ctx); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("tls handshake: %w", err)
	}
	return tconn, w, nil
}

// dialCtrl opens and logs in a control session; its data connections are
// made by a dataDialer bound to slotCtx, which lives as long as the slot.
// pipe says what the pool knows of the server and pipelined commands (see
// Pool.pipelining); when unknown, the new session finds out
// (checkPipelining, waiting up to wait) and fails with errNoPipelining if
// the server does not take them.
func dialCtrl(ctx, slotCtx context.Context, cfg Config, set *connSet, base *tls.Config, pipe pipeState, wait time.Duration) (*ctrlSession, error) {
	tc := newConnTLS(base)
	conn, w, err := dialControl(ctx, cfg, set, tc)
	if err != nil {
		return nil, err
	}
	s := &ctrlSession{tp: textproto.NewConn(conn), conn: conn, tlsConf: tc, serial: pipe == pipeNo}
	s.host, _, _ = net.SplitHostPort(conn.RemoteAddr().String())
	err = s.login(ctx, cfg, conn)
	if err == nil && pipe == pipeUnknown {
		err = s.checkPipelining(w, wait)
	}
	if err != nil {
		s.tp.Close()
		return nil, err
	}
	s.dialer = &dataDialer{ctx: slotCtx, set: set, cfg: cfg}
	if s.prot {
		s.dialer.tlsConf = tc
	}
	return s, nil
}

func (s *ctrlSession) login(ctx context.Context, cfg Config, conn net.Conn) error {
	_, greeting, err := s.tp.ReadResponse(codeReady)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if cfg.TLS == TLSExplicit {
		if _, _, err := s.cmd(codeAuthOK, "AUTH TLS"); err != nil {
			return err
		}
		tconn := tls.Client(conn, s.tlsConf)
		if err := tconn.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls handshake: %w", err)
		}
		s.tp, s.conn = textproto.NewConn(tconn), tconn
	}
	code, msg, err := s.cmd(0, "USER %s", cfg.User)
	if err != nil {
		return err
	}
	if code == codeNeedPassword {
		if _, _, err := s.cmd(codeLoggedIn, "PASS %s", cfg.Password); err != nil {
			return err
		}
	} else if code != codeLoggedIn {
		return &textproto.Error{Code: code, Msg: msg}
	}
	if cfg.TLS != TLSNone {
		if _, _, err := s.cmd(codeCommandOK, "PBSZ 0"); err != nil {
			return err
		}
		if _, _, err := s.cmd(codeCommandOK, "PROT P"); err != nil {
			return err
		}
		s.prot = true
	}
	if code, msg, err := s.cmd(0, "FEAT"); err != nil {
		return err
	} else if code == codeSystemStatus {
		s.caps = parseFeat(msg)
		s.caps.TLS = s.caps.TLS || cfg.TLS != TLSNone
	}
	s.caps.Greeting, s.greeting = greeting, greeting
	if s.caps.UTF8 {
		// Servers that are always in UTF-8 mode may refuse this; harmless.
		if _, _, err := s.cmd(0, "OPTS UTF8 ON"); err != nil {
			return err
		}
	}
	if _, _, err := s.cmd(codeCommandOK, "TYPE I"); err != nil {
		return err
	}
	if s.caps.HASH && s.caps.HashSHA256 {
		// Every upload is verified with HASH: choose SHA-256 now (some
		// servers default to SHA-1), which also tells syncserver to hash
		// this user's uploads on receipt. A refusal only means HASH will
		// ask again when it is first used.
		if code, _, err := s.cmd(0, "OPTS HASH SHA-256"); err != nil {
			return err
		} else if code == codeCommandOK {
			s.hashOn = true
		}
	}
	return nil
}

// cmd sends one command and reads its reply. expect 0 accepts any code
// (the caller looks at it); otherwise a reply with another code is an error
// (a *textproto.Error). expect may be a single digit (1-5) to accept a class.
func (s *ctrlSession) cmd(expect int, format string, args ...any) (int, string, error) {
	line := fmt.Sprintf(format, args...)
	if strings.ContainsAny(line, "\r\n") {
		return 0, "", fmt.Errorf("%w: CR or LF in command", ErrBadPath)
	}
	if err := s.tp.PrintfLine("%s", line); err != nil {
		return 0, "", err
	}
	if expect == 0 {
		return s.tp.ReadResponse(0)
	}
	return s.tp.ReadResponse(expect)
}

// mlsd lists dir with MLSD over our own data connection, keeping every fact.
func (s *ctrlSession) mlsd(dir string) ([]Entry, error) {
	dc, err := s.transfer("MLSD "+dir, 0)
	if err != nil {
		return nil, err
	}
	defer dc.Close()
	var out []Entry
	sc := bufio.NewScanner(dc)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for sc.Scan() {
		e, ok := parseMLSx(sc.Text())
		if ok {
			out = append(out, e)
		}
	}
	readErr := sc.Err()
	dc.Close()
	if _, _, err := s.tp.ReadResponse(2); err != nil {
		return nil, err
	}
	if readErr != nil {
		return nil, fmt.Errorf("read listing: %w", readErr)
	}
	return out, nil
}

// mlst returns the facts of one path (RFC 3659 section 7).
func (s *ctrlSession) mlst(p string) (Entry, error) {
	_, msg, err := s.cmd(codeFileActionOK, "MLST %s", p)
	if err != nil {
		return Entry{}, err
	}
	return parseMLST(p, msg)
}

// parseMLST reads the facts of p from an MLST reply's text.
func parseMLST(p, msg string) (Entry, error) {
	for _, line := range strings.Split(msg, "\n") {
		if e, ok := parseMLSx(strings.TrimLeft(line, " ")); ok && strings.Contains(line, "=") {
			e.Name = lastElem(p)
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("mlst %s: no facts in reply", p)
}

// canHash reports whether the server verifies with HASH SHA-256.
func (s *ctrlSession) canHash() bool { return s.caps.HASH && s.caps.HashSHA256 }

// selectHash makes SHA-256 the algorithm of HASH on this connection, if
// the login could not.
func (s *ctrlSession) selectHash() error {
	if s.hashOn {
		return nil
	}
	if _, _, err := s.cmd(codeCommandOK, "OPTS HASH SHA-256"); err != nil {
		return err
	}
	s.hashOn = true
	return nil
}

// hash asks the server for the SHA-256 of p (draft-bryan-ftpext-hash).
func (s *ctrlSession) hash(p string) ([32]byte, error) {
	if !s.canHash() {
		return [32]byte{}, ErrNotSupported
	}
	if err := s.selectHash(); err != nil {
		return [32]byte{}, err
	}
	_, msg, err := s.cmd(codeFileStatus, "HASH %s", p)
	if err != nil {
		return [32]byte{}, err
	}
	return parseHash(p, msg)
}

// parseHash reads the SHA-256 from a HASH reply's text: "SHA-256 0-1234
// <hex> <path>".
func parseHash(p, msg string) ([32]byte, error) {
	var sum [32]byte
	f := strings.Fields(msg)
	if len(f) < 3 || !strings.EqualFold(f[0], "SHA-256") {
		return sum, fmt.Errorf("hash %s: unexpected reply %q", p, msg)
	}
	b, err := hex.DecodeString(f[2])
	if err != nil || len(b) != len(sum) {
		return sum, fmt.Errorf("hash %s: unexpected reply %q", p, msg)
	}
	copy(sum[:], b)
	return sum, nil
}

func (s *ctrlSession) noop() error {
	_, _, err := s.cmd(codeCommandOK, "NOOP")
	return err
}

func (s *ctrlSession) close() {
	s.tp.Close()
}
