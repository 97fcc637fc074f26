package server

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncagent/syncagent/server/ftpfs"
)

// errLineTooLong reports a command line longer than maxLineLength.
var errLineTooLong = errors.New("command line too long")

// lineMsg is one command line (or the error that ended reading) passed from
// the reader goroutine to the session loop.
type lineMsg struct {
	line string
	err  error
}

// session is one control connection. The session goroutine runs commands
// one at a time; a reader goroutine feeds it lines, and a transfer runs in a
// goroutine of its own so that ABOR, STAT and NOOP are answered meanwhile.
type session struct {
	srv      *Server
	id       string
	raw      net.Conn // the TCP connection under any TLS layer
	conn     net.Conn // the control connection as currently spoken (plain or TLS)
	r        *bufio.Reader
	remoteIP net.IP
	log      *slog.Logger
	started  time.Time
	// loginBy is when an unauthenticated session is closed (Unix
	// nanoseconds); 0 once logged in. Read by the reader goroutine.
	loginBy  atomic.Int64
	implicit bool

	wmu sync.Mutex // serialises replies from the session and transfer goroutines

	lines  chan lineMsg
	resume chan struct{}
	done   chan struct{}

	tlsConf *tls.Config // per-session clone: its own ticket key binds data-channel resumption to this session
	tlsOn   bool
	pbsz    bool
	protP   bool

	userName string
	user     *UserConfig
	fs       *sessionFS
	cwd      string
	binary   bool
	rest     int64
	rnfr     string
	expects  map[string]*ftpfs.Expect // SITE EXPECT, for the next change
	hashAlgo string
	facts    map[string]bool
	quit     bool // set by a handler that ends the session after its reply

	pasv   *passiveListener
	active *net.TCPAddr

	mu       sync.Mutex // guards xfer and closing
	xfer     *transfer
	closing  bool
	closeErr sync.Once
}

func newSession(srv *Server, c net.Conn, implicit bool) *session {
	var idb [6]byte
	rand.Read(idb[:])
	s := &session{
		srv:      srv,
		id:       hex.EncodeToString(idb[:]),
		raw:      c,
		conn:     c,
		implicit: implicit,
		started:  time.Now(),
		lines:    make(chan lineMsg),
		resume:   make(chan struct{}),
		done:     make(chan struct{}),
		cwd:      "/",
		hashAlgo: "SHA-256",
		facts:    defaultFacts(),
	}
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		s.remoteIP = ta.IP
	}
	s.log = s.sessionLog()
	s.armLoginDeadline()
	setOOBInline(c)
	return s
}

// sessionLog is the session's logger before login, which adds the user.
// It is built again on logout rather than kept: a logger with attributes
// costs an idle session several hundred bytes.
func (s *session) sessionLog() *slog.Logger {
	return s.srv.Logger.With("session", s.id, "remote", s.raw.RemoteAddr().String())
}

// serve runs the session until the client quits, the connection fails, the
// session idles out or the server closes it.
func (s *session) serve() {
	defer s.finish()
	s.log.Info("session start", "implicit_tls", s.implicit)
	if s.srv.TLSConfig != nil {
		s.tlsConf = s.srv.TLSConfig.Clone()
		var key [32]byte
		rand.Read(key[:])
		s.tlsConf.SetSessionTicketKeys([][32]byte{key})
	}
	if s.implicit {
		if err := s.startTLS(); err != nil {
			s.log.Info("implicit tls handshake failed", "err", err)
			return
		}
	}
	s.r = bufio.NewReaderSize(s.conn, maxLineLength)
	s.reply(codeReady, "syncserver ready.")
	go s.readLoop()
	for msg := range s.lines {
		if msg.err != nil {
			if isTimeout(msg.err) {
				if s.loginExpired() {
					s.reply(codeUnavailable, "Login timeout; closing control connection.")
					s.log.Info("login timeout")
					return
				}
				if s.transferRunning() {
					s.next()
					continue
				}
				s.reply(codeUnavailable, "Idle timeout; closing control connection.")
				return
			}
			if errors.Is(msg.err, errLineTooLong) {
				s.reply(codeSyntaxError, "Command line too long; closing control connection.")
				s.log.Warn("command line too long", "limit", maxLineLength)
			}
			return
		}
		verb, arg := parseCommand(msg.line)
		if s.transferRunning() {
			switch verb {
			case "ABOR", "STAT", "NOOP":
				if !s.transferAcceptsCommands() {
					break // sent after the final reply: a command of its own
				}
				s.duringTransfer(verb)
				s.next()
				continue
			}
			s.waitTransfer()
		}
		if s.dispatch(verb, arg) {
			return
		}
		if s.isClosing() && !s.transferRunning() {
			s.reply(codeUnavailable, "Server shutting down; closing control connection.")
			return
		}
		s.next()
	}
}

// duringTransfer answers the commands that act on a running transfer.
func (s *session) duringTransfer(verb string) {
	switch verb {
	case "ABOR":
		s.abortTransfer()
		s.reply(codeTransferComplete, "ABOR successful.")
	case "STAT":
		s.reply(codeSystemStatus, s.transferStatus())
	case "NOOP":
		s.reply(codeOK, "NOOP ok.")
	}
}

// next lets the reader goroutine read the following line.
func (s *session) next() {
	select {
	case s.resume <- struct{}{}:
	case <-s.done:
	}
}

// readLoop reads command lines, one per resume, so that the session can
// swap the connection (AUTH TLS) between two lines.
func (s *session) readLoop() {
	defer close(s.lines)
	var partial []byte
	for {
		s.conn.SetReadDeadline(s.readDeadline())
		line, err := readLine(s.r, &partial)
		select {
		case s.lines <- lineMsg{line: line, err: err}:
		case <-s.done:
			return
		}
		if err != nil && !isTimeout(err) {
			return
		}
		select {
		case <-s.resume:
		case <-s.done:
			return
		}
	}
}

// armLoginDeadline starts the time an unauthenticated session has to log
// in (Server.LoginTimeout).
func (s *session) armLoginDeadline() {
	s.loginBy.Store(time.Now().Add(s.srv.loginTimeout()).UnixNano())
}

// loginExpired reports whether the session is not logged in and its login
// deadline has passed.
func (s *session) loginExpired() bool {
	by := s.loginBy.Load()
	return by != 0 && time.Now().UnixNano() >= by
}

// readDeadline is the read deadline for the next command line: the idle
// timeout, or the login deadline when that comes first. Every command
// resets the first, none the second.
func (s *session) readDeadline() time.Time {
	d := time.Now().Add(s.srv.idleTimeout())
	if by := s.loginBy.Load(); by != 0 && by < d.UnixNano() {
		return time.Unix(0, by)
	}
	return d
}

// readLine reads one CRLF- (or LF-) terminated line, dropping Telnet IAC
// sequences (clients send IAC IP / IAC DM before ABOR). A partial line
// survives a read timeout in *partial.
func readLine(r *bufio.Reader, partial *[]byte) (string, error) {
	for {
		chunk, err := r.ReadSlice('\n')
		// A full buffer without LF already holds maxLineLength bytes, so the
		// line cannot fit: say so now rather than wait for more bytes.
		if len(*partial)+len(chunk) > maxLineLength ||
			err == bufio.ErrBufferFull && len(*partial)+len(chunk) >= maxLineLength {
			return "", errLineTooLong
		}
		*partial = append(*partial, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		line := stripTelnet(*partial)
		*partial = (*partial)[:0]
		// A CR inside the line (Telnet allows it only before LF or NUL)
		// becomes NUL, which every path and name check refuses, so no
		// argument echoed in a reply or a log can carry it.
		return strings.ReplaceAll(strings.TrimRight(line, "\r\n"), "\r", "\x00"), nil
	}
}

// stripTelnet removes Telnet command sequences (RFC 854) from a line.
func stripTelnet(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != 0xff {
			out = append(out, b[i])
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch c := b[i+1]; {
		case c == 0xff:
			out = append(out, 0xff)
			i++
		case c >= 0xfb && c <= 0xfe: // WILL, WONT, DO, DONT take an option byte
			i += 2
		default:
			i++
		}
	}
	return string(out)
}

// parseCommand splits a command line into its upper-cased verb and argument.
func parseCommand(line string) (verb, arg string) {
	line = strings.TrimLeft(line, " ")
	verb, arg, _ = strings.Cut(line, " ")
	return strings.ToUpper(verb), arg
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// reply sends a one-line reply.
func (s *session) reply(code int, msg string) {
	s.write(fmt.Sprintf("%d %s\r\n", code, msg))
}

// replyLines sends a multi-line reply (RFC 959 4.2): the first line and the
// last line carry the code; lines in between start with a space.
func (s *session) replyLines(code int, first string, lines []string, last string) {
	var b strings.Builder
	fmt.Fprintf(&b, "%d-%s\r\n", code, first)
	for _, l := range lines {
		b.WriteString(" ")
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "%d %s\r\n", code, last)
	s.write(b.String())
}

func (s *session) write(text string) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.conn.SetWriteDeadline(time.Now().Add(s.srv.dataTimeout()))
	if _, err := io.WriteString(s.conn, text); err != nil {
		s.log.Debug("reply write failed", "err", err)
		s.closeConn()
	}
}

// startTLS runs the server side of a TLS handshake on the control connection.
func (s *session) startTLS() error {
	tc := tls.Server(s.raw, s.tlsConf)
	tc.SetDeadline(time.Now().Add(s.srv.dataTimeout()))
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("tls handshake: %w", err)
	}
	tc.SetDeadline(time.Time{})
	s.wmu.Lock()
	s.conn = tc
	s.wmu.Unlock()
	s.tlsOn = true
	return nil
}

func (s *session) tlsState() *tls.ConnectionState {
	if tc, ok := s.conn.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		return &cs
	}
	return nil
}

func (s *session) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// shutdown asks the session to end: at once when force is set or no
// transfer is running, otherwise as soon as the running transfer ends.
func (s *session) shutdown(force bool) {
	s.mu.Lock()
	s.closing = true
	x := s.xfer
	s.mu.Unlock()
	if force {
		if x != nil {
			x.abort()
		}
		s.closeConn()
		return
	}
	if x == nil || x.finished() {
		s.reply(codeUnavailable, "Server shutting down; closing control connection.")
		s.closeConn()
	}
}

func (s *session) closeConn() {
	// Closing the TCP connection ends any TLS layer on it too; it does not
	// touch s.conn, which the session goroutine may be replacing.
	s.closeErr.Do(func() { s.raw.Close() })
}

// finish releases everything the session holds and logs its end.
func (s *session) finish() {
	s.abortTransfer()
	close(s.done)
	s.closeConn()
	s.closePassive()
	if s.fs != nil {
		s.fs.Close()
	}
	s.log.Info("session end", "duration", time.Since(s.started).Round(time.Millisecond))
}
