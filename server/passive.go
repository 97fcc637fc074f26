package server

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// errNoPassivePort reports that every port of passive_ports is in use.
var errNoPassivePort = errors.New("no free passive port")

// passiveListener is a session's passive data listener (PASV, EPSV). It
// holds one of its client IP's limits.max_passive_per_ip slots until it is
// closed, and closes itself when no transfer took it within the passive
// timeout, so that sessions which ask for ports and never connect cannot
// hold the pool. Close may be called from any goroutine, more than once.
type passiveListener struct {
	*net.TCPListener
	timer   *time.Timer
	release func()
	once    sync.Once

	mu      sync.Mutex
	taken   bool // a transfer took it: the timer no longer applies
	expired bool // the timer closed it first
}

// take hands the listener to a transfer: its idle timer stops, the
// transfer's own accept deadline applies from now on. It reports false
// when the timer closed the listener first.
func (p *passiveListener) take() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.expired {
		return false
	}
	p.taken = true
	p.timer.Stop()
	return true
}

// expire is the timer's action: close the listener unless a transfer
// took it.
func (p *passiveListener) expire() {
	p.mu.Lock()
	if p.taken {
		p.mu.Unlock()
		return
	}
	p.expired = true
	p.mu.Unlock()
	p.Close()
}

// Close closes the listener and gives its slot back.
func (p *passiveListener) Close() error {
	var err error
	p.once.Do(func() {
		p.timer.Stop()
		err = p.TCPListener.Close()
		p.release()
	})
	return err
}

// openPassive replaces the session's passive listener with a new one and
// reports whether it could; when not, it has replied 425 saying why.
func (s *session) openPassive() (*passiveListener, bool) {
	s.closePassive()
	ip := s.remoteIP.String()
	if !s.srv.acquirePassive(ip) {
		limit := s.srv.Config.PassivePerIPLimit()
		s.log.Warn("passive listener refused: per-address limit", "limit", limit)
		s.reply(codeCantOpenData, fmt.Sprintf("Too many passive ports open for your address (limit %d); use or close them first.", limit))
		return nil, false
	}
	ln, err := s.listenTCP()
	if err != nil {
		s.srv.releasePassive(ip)
		if errors.Is(err, errNoPassivePort) {
			s.log.Warn("passive listener refused: pool full", "err", err)
			s.reply(codeCantOpenData, "No free passive port: the server's passive port pool is full; try again later.")
			return nil, false
		}
		s.log.Error("passive listen", "err", err)
		s.reply(codeCantOpenData, "Cannot open passive connection.")
		return nil, false
	}
	p := &passiveListener{TCPListener: ln, release: func() { s.srv.releasePassive(ip) }}
	p.mu.Lock() // expire waits until p.timer is set
	p.timer = time.AfterFunc(s.srv.passiveTimeout(), p.expire)
	p.mu.Unlock()
	s.pasv = p
	return p, true
}

// acquirePassive takes one of ip's passive listener slots, if one is free.
func (s *Server) acquirePassive(ip string) bool {
	s.pasvMu.Lock()
	defer s.pasvMu.Unlock()
	if s.pasvPerIP[ip] >= s.Config.PassivePerIPLimit() {
		return false
	}
	s.pasvPerIP[ip]++
	return true
}

// releasePassive gives back a slot taken by acquirePassive.
func (s *Server) releasePassive(ip string) {
	s.pasvMu.Lock()
	defer s.pasvMu.Unlock()
	if s.pasvPerIP[ip]--; s.pasvPerIP[ip] <= 0 {
		delete(s.pasvPerIP, ip)
	}
}

// passiveOpen returns how many passive listeners are open for ip.
func (s *Server) passiveOpen(ip string) int {
	s.pasvMu.Lock()
	defer s.pasvMu.Unlock()
	return s.pasvPerIP[ip]
}
