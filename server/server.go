package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncagent/syncagent/server/ftpfs"
	"github.com/syncagent/syncagent/server/versions"
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or Close.
var ErrServerClosed = errors.New("server: closed")

// Default values used when the matching Server field is zero.
const (
	DefaultLoginFailDelay = time.Second
	DefaultDataTimeout    = 30 * time.Second
	DefaultPruneInterval  = 10 * time.Minute
)

// Server is an FTP server. Build one with New (which validates Config and
// loads TLS material) and run it with Serve or ListenAndServe. Its exported
// fields must not be changed once serving starts; all methods are safe for
// concurrent use.
type Server struct {
	// Config is the validated configuration the server runs with.
	Config Config
	// Logger receives one line per session start and end and per transfer.
	// If nil, slog.Default() is used.
	Logger *slog.Logger
	// TLSConfig enables AUTH TLS and implicit TLS. New builds it from
	// Config.TLS; nil means plain FTP only.
	TLSConfig *tls.Config
	// LoginFailDelay is how long a failed login waits before its 530 reply.
	// If zero, DefaultLoginFailDelay is used.
	LoginFailDelay time.Duration
	// DataTimeout bounds the wait for a data connection to be made and each
	// read or write on it. If zero, DefaultDataTimeout is used.
	DataTimeout time.Duration
	// IdleTimeout closes a session that sent no command for this long while no
	// transfer was running. If zero, Config.Limits.IdleTimeout is used.
	IdleTimeout time.Duration
	// LoginTimeout closes a session that has not logged in this long after
	// it started (or after AUTH TLS reset its login). If zero,
	// Config.Limits.LoginTimeout is used.
	LoginTimeout time.Duration
	// PassiveTimeout closes a passive listener (PASV/EPSV) that no
	// transfer used for this long. If zero, Config.Limits.PassiveTimeout
	// is used.
	PassiveTimeout time.Duration
	// PruneInterval is how often the background pruner removes versions
	// older than Config.Versions.MaxAge. If zero, DefaultPruneInterval is
	// used.
	PruneInterval time.Duration

	users atomic.Pointer[userTable] // swapped whole by Reload
	bans  *banList

	mu        sync.Mutex
	listeners map[*net.Listener]struct{}
	sessions  map[*session]struct{}
	perIP     map[string]int
	pasvMu    sync.Mutex     // guards pasvPerIP; never held with mu (sessions close listeners under mu)
	pasvPerIP map[string]int // open passive listeners per client IP
	closing   atomic.Bool
	doneCh    chan struct{}
	wg        sync.WaitGroup
	initOnce  sync.Once

	versions    *versions.Store // nil: versions disabled (keep: 0)
	digests     *ftpfs.DigestCache
	hashUsers   hashInterest // users whose uploads are hashed on receipt
	versionsErr error        // opening the store failed: logins are refused
	// stopCtx ends when Close aborts everything; the sessions' long file
	// operations (RMD of a tree) stop with it.
	stopCtx   context.Context
	stopAll   context.CancelFunc
	pruneOnce sync.Once
	closeOnce sync.Once
}

// New validates cfg and returns a Server ready to serve it.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{Config: cfg, Logger: logger}
	if cfg.TLS.Cert != "" {
		tc, err := loadTLSConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		s.TLSConfig = tc
	}
	return s, nil
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		if s.Logger == nil {
			s.Logger = slog.Default()
		}
		s.users.Store(newUserTable(s.Config.Users))
		s.bans = newBanList(s.Config.Limits.MaxLoginFailures, s.Config.Limits.BanDuration.D())
		s.listeners = make(map[*net.Listener]struct{})
		s.sessions = make(map[*session]struct{})
		s.perIP = make(map[string]int)
		s.pasvPerIP = make(map[string]int)
		s.doneCh = make(chan struct{})
		s.stopCtx, s.stopAll = context.WithCancel(context.Background())
		s.digests = ftpfs.NewDigestCache(0)
		s.openVersions()
	})
}

// openVersions opens the version store under ROOT/.syncserver/versions,
// unless versions are disabled.
func (s *Server) openVersions() {
	if s.Config.Versions.Keep <= 0 {
		return
	}
	s.versions, s.versionsErr = versions.Open(filepath.Join(s.Config.Root, ".syncserver", "versions"),
		versions.Options{Keep: s.Config.Versions.Keep, MaxAge: s.Config.Versions.MaxAge.D(), MaxBytes: s.Config.Versions.MaxBytes})
	if s.versionsErr != nil {
		s.Logger.Error("open version store", "err", s.versionsErr)
	}
}

// startPruner starts, once, the goroutine that prunes old versions until
// the server closes. It counts in s.wg, so Shutdown and Close wait for it.
func (s *Server) startPruner() {
	s.pruneOnce.Do(func() {
		if s.versions == nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closing.Load() {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				select {
				case <-s.doneCh:
				case <-ctx.Done():
				}
				cancel()
			}()
			s.versions.Run(ctx, s.pruneInterval(), s.Logger)
		}()
	})
}

func (s *Server) pruneInterval() time.Duration {
	if s.PruneInterval > 0 {
		return s.PruneInterval
	}
	return DefaultPruneInterval
}

// closeVersions releases the version store once every session and the
// pruner have ended.
func (s *Server) closeVersions() {
	s.closeOnce.Do(func() {
		if s.versions != nil {
			s.versions.Close()
		}
	})
}

func (s *Server) loginTimeout() time.Duration {
	return orDefault(s.LoginTimeout, s.Config.Limits.LoginTimeout.D(), time.Minute)
}

func (s *Server) passiveTimeout() time.Duration {
	return orDefault(s.PassiveTimeout, s.Config.Limits.PassiveTimeout.D(), 30*time.Second)
}

// orDefault returns the first of field, configured and fallback that is
// more than zero.
func orDefault(field, configured, fallback time.Duration) time.Duration {
	switch {
	case field > 0:
		return field
	case configured > 0:
		return configured
	}
	return fallback
}

func (s *Server) loginFailDelay() time.Duration {
	if s.LoginFailDelay > 0 {
		return s.LoginFailDelay
	}
	return DefaultLoginFailDelay
}

func (s *Server) dataTimeout() time.Duration {
	if s.DataTimeout > 0 {
		return s.DataTimeout
	}
	return DefaultDataTimeout
}

func (s *Server) idleTimeout() time.Duration {
	return orDefault(s.IdleTimeout, s.Config.Limits.IdleTimeout.D(), 5*time.Minute)
}

// ListenAndServe listens on Config.Listen (and on Config.TLS.ImplicitListen
// for implicit FTPS, when set) and serves until Shutdown or Close.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.Config.Listen, err)
	}
	if s.Config.TLS.ImplicitListen == "" {
		return s.Serve(ln)
	}
	iln, err := net.Listen("tcp", s.Config.TLS.ImplicitListen)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen %s: %w", s.Config.TLS.ImplicitListen, err)
	}
	errc := make(chan error, 2)
	go func() { errc <- s.Serve(ln) }()
	go func() { errc <- s.ServeImplicitTLS(iln) }()
	err = <-errc
	if !errors.Is(err, ErrServerClosed) {
		s.Close()
	}
	<-errc
	return err
}

// Serve accepts plain (explicit-TLS capable) FTP sessions on ln until
// Shutdown or Close, and always returns a non-nil error.
func (s *Server) Serve(ln net.Listener) error { return s.serve(ln, false) }

// ServeImplicitTLS accepts implicit FTPS sessions (TLS from the first byte,
// RFC 4217 section 1's "port 990" practice) on ln.
func (s *Server) ServeImplicitTLS(ln net.Listener) error {
	if s.TLSConfig == nil {
		ln.Close()
		return errors.New("server: implicit TLS needs tls.cert and tls.key")
	}
	return s.serve(ln, true)
}

func (s *Server) serve(ln net.Listener, implicit bool) error {
	s.init()
	if !s.trackListener(&ln, true) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.trackListener(&ln, false)
	s.startPruner()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			if !temporaryAccept(err) {
				return fmt.Errorf("accept: %w", err)
			}
			// Out of file descriptors, a connection reset before it was
			// accepted: the listener is fine, so wait and go on, as
			// net/http does, instead of ending every session.
			delay = min(max(2*delay, minAcceptDelay), maxAcceptDelay)
			if delay == minAcceptDelay {
				s.Logger.Warn("accept failed; retrying", "err", err, "retry_in", delay)
			}
			select {
			case <-time.After(delay):
			case <-s.doneCh:
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		s.startSession(c, implicit)
	}
}

// Bounds of the wait between retries of a failed accept.
const (
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = time.Second
)

// temporaryAccept reports whether an accept error leaves the listener
// usable: a timeout, or an errno the system calls temporary (EMFILE and
// ENFILE when out of file descriptors, ECONNABORTED, ECONNRESET, EAGAIN).
func temporaryAccept(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (s *Server) trackListener(ln *net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closing.Load() {
			return false
		}
		s.listeners[ln] = struct{}{}
	} else {
		delete(s.listeners, ln)
	}
	return true
}

// startSession applies the connection limits and the ban list, then runs
// the session in its own goroutine.
func (s *Server) startSession(c net.Conn, implicit bool) {
	ip := hostOf(c.RemoteAddr())
	reject := func(msg string) {
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "%d %s\r\n", codeUnavailable, msg)
		c.Close()
		s.Logger.Info("connection refused", "remote", c.RemoteAddr().String(), "reason", msg)
	}
	if s.bans.banned(ip, time.Now()) {
		reject("Too many failed logins from your address; try later.")
		return
	}
	s.mu.Lock()
	switch {
	case s.closing.Load():
		s.mu.Unlock()
		reject("Server shutting down.")
		return
	case len(s.sessions) >= s.Config.Limits.MaxConnections:
		s.mu.Unlock()
		reject("Too many connections; try later.")
		return
	case s.perIP[ip] >= s.Config.Limits.MaxPerIP:
		s.mu.Unlock()
		reject("Too many connections from your address.")
		return
	}
	sess := newSession(s, c, implicit)
	s.sessions[sess] = struct{}{}
	s.perIP[ip]++
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		sess.serve()
		s.mu.Lock()
		delete(s.sessions, sess)
		if s.perIP[ip]--; s.perIP[ip] <= 0 {
			delete(s.perIP, ip)
		}
		s.mu.Unlock()
	}()
}

// Shutdown stops accepting connections, closes idle sessions, lets running
// transfers finish, and waits for every session to end or ctx to expire.
// When ctx expires first it closes whatever is left, as Close does, and
// returns ctx.Err() at once: a session busy in a long command (hashing a
// large file) ends, and the version store closes, in the background.
// Sessions are written to (their 421 reply) outside the server's lock, one
// goroutine each, so a client that does not read delays nothing else.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.beginClose()
	var notify sync.WaitGroup
	for _, sess := range s.sessionList() {
		notify.Go(func() { sess.shutdown(false) })
	}
	done := make(chan struct{})
	go func() {
		notify.Wait()
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.closeVersions()
		return nil
	case <-ctx.Done():
		s.closeSessions()
		go func() {
			<-done
			s.closeVersions()
		}()
		return ctx.Err()
	}
}

// Close closes the listeners and every session at once, aborting transfers
// (their uploads are discarded, previous files stay intact), and waits for
// the sessions to end.
func (s *Server) Close() error {
	s.init()
	s.beginClose()
	s.stopAll()
	s.closeSessions()
	s.wg.Wait()
	s.closeVersions()
	return nil
}

// closeSessions closes every session's connection and aborts its transfer.
func (s *Server) closeSessions() {
	for _, sess := range s.sessionList() {
		sess.shutdown(true)
	}
}

// sessionList returns the sessions running now; no session is touched
// under the server's lock.
func (s *Server) sessionList() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		list = append(list, sess)
	}
	return list
}

func (s *Server) beginClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.CompareAndSwap(false, true) {
		close(s.doneCh)
	}
	for ln := range s.listeners {
		(*ln).Close()
	}
}

// hostOf returns the IP part of a network address, or its string form.
func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}
