package remote

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jlaffaye/ftp"
)

// ErrPoolClosed is returned by operations on a closed Pool.
var ErrPoolClosed = errors.New("remote: pool closed")

// DefaultIdleCheck is Pool.IdleCheck when zero.
const DefaultIdleCheck = 20 * time.Second

// Pool is a set of up to Config.Connections logged-in connections to one
// FTP server. All its methods are safe for concurrent use; each operation
// borrows one connection for its duration, so at most Connections
// operations run at once and the others wait (or give up with their
// context). Connections are dialled on demand and replaced after any error
// that may have left them in an unknown state.
type Pool struct {
	// IdleCheck: a connection idle for longer than this is probed with NOOP
	// before it is lent out, so that one the server timed out is replaced
	// instead of failing the next operation. 0 means DefaultIdleCheck.
	// Set it before the first operation.
	IdleCheck time.Duration
	// PipelineCheck bounds the wait, at the pool's first login, for the
	// reply to the second of two commands sent in one write, once the
	// first is answered (see checkPipelining).
	// 0 means DefaultPipelineCheck. Set it before the first operation.
	PipelineCheck time.Duration

	cfg     Config
	log     *slog.Logger
	tlsBase *tls.Config
	sem     chan struct{}

	mu     sync.Mutex
	idle   []*slot
	closed bool
	caps   *Caps

	resumeMu sync.Mutex
	resumes  map[string]resumeState // remote path → interrupted upload

	// pipe is a pipeState: whether the server takes pipelined commands.
	pipe atomic.Int32

	// noRename is set once a listing showed a file this login may write but
	// not rename (an append-only account): uploads then check their target.
	noRename atomic.Bool
}

// slot is one pooled connection: one control connection, logged in once,
// on which our control session sends every command and a jlaffaye/ftp
// ServerConn lists (LIST) and downloads (see ftpOnSession). Its data
// connections share its connSet, so killing the slot aborts everything it
// has in flight.
type slot struct {
	ctx    context.Context // lives as long as the slot; data dials use it
	cancel context.CancelFunc
	set    *connSet
	ftp    *ftp.ServerConn
	ctl    *ctrlSession
	used   time.Time
	broken bool
}

// probe checks that the control connection still answers.
func (s *slot) probe() error { return s.ctl.noop() }

func (s *slot) kill() {
	s.cancel()
	s.set.kill()
}

// NewPool checks cfg and loads its TLS material. It does not connect: the
// first operation does, so a server that is down at start-up is an
// ordinary transient error of that operation.
func NewPool(cfg Config, logger *slog.Logger) (*Pool, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("remote config: %w", err)
	}
	base, err := cfg.baseTLSConfig()
	if err != nil {
		return nil, fmt.Errorf("remote config: %w", err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Pool{
		cfg:     cfg,
		log:     logger.With("server", cfg.Address),
		tlsBase: base,
		sem:     make(chan struct{}, cfg.Connections),
		resumes: make(map[string]resumeState),
	}, nil
}

// Close closes the idle connections and makes later operations fail with
// ErrPoolClosed. Operations in flight finish (or fail) on their own; their
// connections are closed when returned.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, s := range idle {
		s.quit()
	}
	return nil
}

// quit says goodbye politely (bounded by OpTimeout) and closes everything.
func (s *slot) quit() {
	s.ctl.quit()
	s.ctl.close()
	s.kill()
}

// get borrows a connection, dialling one when none is idle.
func (p *Pool) get(ctx context.Context) (*slot, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			<-p.sem
			return nil, ErrPoolClosed
		}
		var s *slot
		if n := len(p.idle); n > 0 {
			s = p.idle[n-1]
			p.idle = p.idle[:n-1]
		}
		p.mu.Unlock()
		if s == nil {
			break
		}
		if time.Since(s.used) < p.idleCheck() || s.probe() == nil {
			return s, nil
		}
		p.log.Debug("dropping stale connection")
		s.kill()
	}
	s, err := p.dial(ctx)
	if err != nil {
		<-p.sem
		return nil, err
	}
	return s, nil
}

func (p *Pool) idleCheck() time.Duration {
	if p.IdleCheck > 0 {
		return p.IdleCheck
	}
	return DefaultIdleCheck
}

// put returns a borrowed connection, closing it if it is broken.
func (p *Pool) put(s *slot) {
	defer func() { <-p.sem }()
	p.mu.Lock()
	if s.broken || p.closed {
		p.mu.Unlock()
		s.kill()
		return
	}
	s.used = time.Now()
	p.idle = append(p.idle, s)
	p.mu.Unlock()
}

// dial opens a control connection and logs in, once: every command of
// the slot, and every data connection, goes through what it opens. The
// pool's first login finds out whether the server takes pipelined
// commands; if not, it logs in again, to send one command at a time.
func (p *Pool) dial(ctx context.Context) (*slot, error) {
	s, err := p.dialOnce(ctx)
	if errors.Is(err, errNoPipelining) {
		p.log.Warn("the server loses commands sent together: sending one at a time", "err", err)
		p.pipe.Store(int32(pipeNo))
		s, err = p.dialOnce(ctx)
	}
	return s, err
}

func (p *Pool) dialOnce(ctx context.Context) (*slot, error) {
	sctx, cancel := context.WithCancel(context.Background())
	s := &slot{ctx: sctx, cancel: cancel, set: &connSet{}}
	stop := context.AfterFunc(ctx, s.kill)
	defer stop()
	wait := p.PipelineCheck
	if wait <= 0 {
		wait = DefaultPipelineCheck
	}
	pipe := pipeState(p.pipe.Load())
	ctl, err := dialCtrl(ctx, sctx, p.cfg, s.set, p.tlsBase, pipe, wait)
	if err == nil && pipe == pipeUnknown {
		p.pipe.CompareAndSwap(int32(pipeUnknown), int32(pipeYes))
	}
	if err == nil {
		s.ctl = ctl
		s.ftp, err = ctl.ftpOnSession(p.cfg)
	}
	if err != nil {
		s.kill()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect: %w", ctx.Err())
		}
		return nil, fmt.Errorf("connect: %w", err)
	}
	p.mu.Lock()
	if p.caps == nil {
		caps := ctl.caps
		p.caps = &caps
	}
	p.mu.Unlock()
	return s, nil
}

// do runs fn on a borrowed connection. A cancelled context closes the
// connection's sockets, which unblocks fn; a connection that saw an error
// other than a plain negative reply is dropped.
func (p *Pool) do(ctx context.Context, fn func(s *slot) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := p.get(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, s.kill)
	err = fn(s)
	if !stop() || (err != nil && leavesConnBroken(err)) {
		s.broken = true
	}
	p.put(s)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// Caps returns the server's capabilities from FEAT, connecting if no
// connection has been made yet. The answer is cached for the pool's life.
func (p *Pool) Caps(ctx context.Context) (Caps, error) {
	p.mu.Lock()
	c := p.caps
	p.mu.Unlock()
	if c != nil {
		return *c, nil
	}
	var caps Caps
	err := p.do(ctx, func(s *slot) error {
		caps = s.ctl.caps
		return nil
	})
	return caps, err
}
