package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// verifiedTTL is how long a password that passed bcrypt is remembered, so
// a burst of logins by one user (an agent's connection pool, a benchmark)
// pays bcrypt's deliberate cost once, not per connection.
const verifiedTTL = 10 * time.Minute

// userTable maps login names to their configuration. The maps are
// immutable after construction; the verified-password cache has its own
// locks. Safe for concurrent use.
type userTable struct {
	byName map[string]*UserConfig
	byCN   map[string]*UserConfig

	macKey [32]byte // random per process: cache entries are useless elsewhere
	mu     sync.Mutex
	cache  map[string]*verified
}

// verified remembers the HMAC of the last password that passed bcrypt for
// one user. Its mutex also makes concurrent first logins wait for one bcrypt.
type verified struct {
	mu    sync.Mutex
	mac   []byte
	until time.Time
}

func newUserTable(users []UserConfig) *userTable {
	t := &userTable{byName: make(map[string]*UserConfig), byCN: make(map[string]*UserConfig), cache: make(map[string]*verified)}
	rand.Read(t.macKey[:])
	for i := range users {
		u := &users[i]
		t.byName[u.Name] = u
		if u.CertCN != "" {
			t.byCN[u.CertCN] = u
		}
	}
	return t
}

func (t *userTable) entry(name string) *verified {
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.cache[name]
	if v == nil {
		v = &verified{}
		t.cache[name] = v
	}
	return v
}

// dummyHash is compared against when the user does not exist, so a failed
// login costs the same time whether or not the name is known. It is made
// on first use, not at init: a bcrypt costs ~60 ms of CPU, and every
// process linking this package (syncagent's commands too) would pay it at
// start.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
	return h
})

// isAnonymous reports whether name is one of the conventional anonymous
// logins, which are always refused.
func isAnonymous(name string) bool {
	n := strings.ToLower(name)
	return n == "anonymous" || n == "ftp"
}

// checkPassword returns the user when name and password match a configured
// user that has a password hash; nil otherwise.
func (t *userTable) checkPassword(name, password string) *UserConfig {
	u := t.byName[name]
	if u == nil || u.PasswordHash == "" || isAnonymous(name) {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return nil
	}
	m := hmac.New(sha256.New, t.macKey[:])
	m.Write([]byte(u.PasswordHash))
	m.Write([]byte{0})
	m.Write([]byte(password))
	mac := m.Sum(nil)
	v := t.entry(u.Name)
	v.mu.Lock()
	if time.Now().Before(v.until) {
		hit := hmac.Equal(v.mac, mac)
		v.mu.Unlock()
		if hit {
			return u
		}
		// A different password than the remembered one: check it without
		// holding the lock, so wrong guesses never queue up good logins.
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
			return nil
		}
		v.mu.Lock()
		v.mac, v.until = mac, time.Now().Add(verifiedTTL)
		v.mu.Unlock()
		return u
	}
	// Nothing remembered: concurrent first logins wait here for one bcrypt.
	defer v.mu.Unlock()
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return nil
	}
	v.mac, v.until = mac, time.Now().Add(verifiedTTL)
	return u
}

// certUser returns the user a verified client certificate logs in as, when
// it matches name.
func (t *userTable) certUser(name string, cs *tls.ConnectionState) *UserConfig {
	if cs == nil || len(cs.VerifiedChains) == 0 {
		return nil
	}
	u := t.byCN[cs.VerifiedChains[0][0].Subject.CommonName]
	if u == nil || u.Name != name {
		return nil
	}
	return u
}

// banList counts failed logins per client IP and bans an IP that reaches
// the limit within the window. It is safe for concurrent use.
type banList struct {
	max    int
	window time.Duration

	mu      sync.Mutex
	entries map[string]*banEntry
}

type banEntry struct {
	first    time.Time
	failures int
	until    time.Time
}

func newBanList(max int, window time.Duration) *banList {
	return &banList{max: max, window: window, entries: make(map[string]*banEntry)}
}

// banned reports whether ip is currently refused.
func (b *banList) banned(ip string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[ip]
	return e != nil && now.Before(e.until)
}

// fail records a failed login from ip and reports whether ip is now banned.
func (b *banList) fail(ip string, now time.Time) bool {
	if b.max <= 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.entries) > 10000 {
		b.sweep(now)
	}
	e := b.entries[ip]
	if e == nil || now.Sub(e.first) > b.window {
		e = &banEntry{first: now}
		b.entries[ip] = e
	}
	e.failures++
	if e.failures >= b.max {
		e.until = now.Add(b.window)
	}
	return now.Before(e.until)
}

// succeed forgets the failures of ip after a good login.
func (b *banList) succeed(ip string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.entries[ip]; e != nil && e.until.IsZero() {
		delete(b.entries, ip)
	}
}

func (b *banList) sweep(now time.Time) {
	for ip, e := range b.entries {
		if now.Sub(e.first) > b.window && !now.Before(e.until) {
			delete(b.entries, ip)
		}
	}
}

// loadTLSConfig builds the server's TLS configuration from the tls: section.
func loadTLSConfig(c TLSConfig) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
	if err != nil {
		return nil, fmt.Errorf("tls.cert/tls.key: %w", err)
	}
	tc := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
	if c.ClientCA != "" {
		pem, err := os.ReadFile(c.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("tls.client_ca: no PEM certificate found in " + c.ClientCA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return tc, nil
}
