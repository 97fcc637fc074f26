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

// userTable maps login names to their configuration and checks passwords.
// The maps of users are immutable after construction; the remembered
// passwords and the checks in flight are guarded by mu, which is never held
// across a bcrypt comparison. Safe for concurrent use.
//
// A failed check costs the same whether or not the name exists: an unknown
// name is compared against a dummy hash of the configured users' highest
// bcrypt cost; a wrong password for a user whose hash has a lower cost c
// is padded with dummy comparisons at costs c, c+1, ... up to that highest
// cost (bcrypt's work doubles with each cost step, so 2^c + 2^c +
// 2^(c+1) + ... = 2^highest); every check runs in parallel with every
// other (no per-user lock); and concurrent checks of one name and password
// share one bcrypt whether the name exists or not. The session also times
// the failure reply from the PASS (Server.LoginFailDelay).
type userTable struct {
	byName map[string]*UserConfig
	byCN   map[string]*UserConfig

	dummyCost int            // bcrypt cost of the dummy hash: the highest configured cost
	costs     map[string]int // user name -> the cost of its hash
	dummyMu   sync.Mutex
	dummies   map[int][]byte // cost -> a hash of that cost, made on first use

	macKey  [32]byte // random per process: cache entries are useless elsewhere
	mu      sync.Mutex
	cache   map[string]verified // user name -> last password that passed bcrypt
	flights map[string]*flight  // check key -> the bcrypt running for it
}

// verified remembers the HMAC of the last password that passed bcrypt for
// one user.
type verified struct {
	mac   []byte
	until time.Time
}

// flight is one bcrypt comparison that concurrent identical checks wait for.
type flight struct {
	done chan struct{}
	ok   bool
}

// bcryptCompare is bcrypt.CompareHashAndPassword; tests wrap it to watch
// the comparisons run.
var bcryptCompare = bcrypt.CompareHashAndPassword

func newUserTable(users []UserConfig) *userTable {
	t := &userTable{byName: make(map[string]*UserConfig), byCN: make(map[string]*UserConfig),
		cache: make(map[string]verified), flights: make(map[string]*flight), dummyCost: bcrypt.DefaultCost,
		costs: make(map[string]int), dummies: make(map[int][]byte)}
	rand.Read(t.macKey[:])
	costs := 0
	for i := range users {
		u := &users[i]
		t.byName[u.Name] = u
		if u.CertCN != "" {
			t.byCN[u.CertCN] = u
		}
		if c, err := bcrypt.Cost([]byte(u.PasswordHash)); err == nil {
			t.costs[u.Name] = c
			costs = max(costs, c)
		}
	}
	if costs > 0 {
		t.dummyCost = costs
	}
	return t
}

// dummyHash is compared against when the user does not exist.
func (t *userTable) dummyHash() []byte { return t.dummyOf(t.dummyCost) }

// dummyOf returns a hash of the given cost, made on first use, not at
// start: a bcrypt costs ~60 ms of CPU at cost 10, and a server that never
// sees a failed login should not pay it.
func (t *userTable) dummyOf(cost int) []byte {
	t.dummyMu.Lock()
	defer t.dummyMu.Unlock()
	h := t.dummies[cost]
	if h == nil {
		h, _ = bcrypt.GenerateFromPassword([]byte("no such user"), cost)
		t.dummies[cost] = h
	}
	return h
}

// pad spends, after a wrong password for the user name, what a check at
// the dummy's cost would have cost more than the user's own hash did.
func (t *userTable) pad(name string, password []byte) {
	c, ok := t.costs[name]
	if !ok {
		return
	}
	for ; c < t.dummyCost; c++ {
		bcryptCompare(t.dummyOf(c), password)
	}
}

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
	hash := t.dummyHash
	if u == nil || u.PasswordHash == "" || isAnonymous(name) {
		u = nil
	} else {
		hash = func() []byte { return []byte(u.PasswordHash) }
	}
	m := hmac.New(sha256.New, t.macKey[:])
	m.Write([]byte(name))
	m.Write([]byte{0})
	if u != nil {
		m.Write([]byte(u.PasswordHash))
	}
	m.Write([]byte{0})
	m.Write([]byte(password))
	mac := m.Sum(nil)
	key := string(mac)

	t.mu.Lock()
	if v, ok := t.cache[name]; ok && u != nil && time.Now().Before(v.until) && hmac.Equal(v.mac, mac) {
		t.mu.Unlock()
		return u
	}
	if f := t.flights[key]; f != nil {
		t.mu.Unlock()
		<-f.done
		return pick(f.ok, u)
	}
	f := &flight{done: make(chan struct{})}
	t.flights[key] = f
	t.mu.Unlock()

	f.ok = bcryptCompare(hash(), []byte(password)) == nil && u != nil
	if !f.ok && u != nil {
		t.pad(u.Name, []byte(password))
	}
	t.mu.Lock()
	delete(t.flights, key)
	if f.ok {
		t.cache[name] = verified{mac: mac, until: time.Now().Add(verifiedTTL)}
	}
	t.mu.Unlock()
	close(f.done)
	return pick(f.ok, u)
}

// pick returns u when ok, nil otherwise.
func pick(ok bool, u *UserConfig) *UserConfig {
	if ok {
		return u
	}
	return nil
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

// requiresTLS reports whether the user called name must log in over TLS.
func (t *userTable) requiresTLS(name string) bool {
	u := t.byName[name]
	return u != nil && u.TLSRequired
}

// current reports whether u, a user a session logged in as, is still in
// the table with the same settings (a reload may have removed or changed
// it).
func (t *userTable) current(u *UserConfig) bool {
	v := t.byName[u.Name]
	return v != nil && *v == *u
}
