package server

import (
	"crypto/tls"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/syncagent/syncagent/internal/config"
)

// TestBanCheckedAtEveryPASS opens connections before the ban and checks
// that none of them can still log in once the address is banned, while a
// session logged in before the ban keeps working.
func TestBanCheckedAtEveryPASS(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits.MaxLoginFailures = 3
	ts := startServer(t, cfg)
	const ip = "127.0.0.4"

	before := dialCtrl(t, ts.Addr, ip)
	before.login("alice")
	conns := make([]*ctrl, 4)
	for i := range conns {
		conns[i] = dialCtrl(t, ts.Addr, ip)
		conns[i].must(331, "USER alice")
	}
	conns[0].must(530, "PASS wrong-0")
	conns[1].must(530, "PASS wrong-1")
	conns[2].must(421, "PASS wrong-2")
	// The fourth connection was opened before the ban: the right password
	// no longer logs it in.
	conns[3].must(421, "PASS %s", testPassword)
	assertClosed(t, conns[3].conn)
	// A session logged in before the ban stays logged in.
	before.must(257, "PWD")
	before.must(221, "QUIT")
}

// TestLoginChecksRunInParallel runs concurrent wrong guesses for a real
// user and for an unknown one, and checks that in both cases all of them
// are inside bcrypt at once: no per-user lock orders them one after
// another, so the replies spread the same way for both names.
func TestLoginChecksRunInParallel(t *testing.T) {
	users := newUserTable([]UserConfig{{Name: "alice", PasswordHash: userHash, Home: "alice"}})
	users.dummyHash() // made outside the measured comparisons
	const n = 4
	for _, name := range []string{"alice", "nosuchuser"} {
		var inside, most atomic.Int32
		all := make(chan struct{})
		var once sync.Once
		bcryptCompare = func(h, p []byte) error {
			k := inside.Add(1)
			defer inside.Add(-1)
			for m := most.Load(); k > m && !most.CompareAndSwap(m, k); m = most.Load() {
			}
			if k == n {
				once.Do(func() { close(all) })
			}
			// Wait (bounded) for the others: with a per-user lock they
			// never come, and the check reaches at most 1.
			select {
			case <-all:
			case <-time.After(10 * time.Second):
			}
			return bcrypt.CompareHashAndPassword(h, p)
		}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if users.checkPassword(name, "wrong-"+string(rune('a'+i))) != nil {
					t.Errorf("wrong password accepted for %s", name)
				}
			})
		}
		wg.Wait()
		bcryptCompare = bcrypt.CompareHashAndPassword
		if got := most.Load(); got != n {
			t.Errorf("%s: at most %d of %d guesses were checked at once, want all", name, got, n)
		}
	}
}

// TestFailedCheckWorkIndependentOfName checks that a wrong password costs
// the same bcrypt work (the sum of 2^cost over the comparisons made) for
// an unknown name, a user of the highest configured cost and a user whose
// hash has a lower cost.
func TestFailedCheckWorkIndependentOfName(t *testing.T) {
	low, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	high, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost+2)
	users := newUserTable([]UserConfig{{Name: "low", PasswordHash: string(low)}, {Name: "high", PasswordHash: string(high)}})
	if got, err := bcrypt.Cost(users.dummyHash()); err != nil || got != bcrypt.MinCost+2 {
		t.Fatalf("dummy hash cost %d (%v), want the highest configured, %d", got, err, bcrypt.MinCost+2)
	}
	var mu sync.Mutex
	var work int
	bcryptCompare = func(h, p []byte) error {
		c, err := bcrypt.Cost(h)
		if err != nil {
			t.Errorf("compared against a bad hash: %v", err)
		}
		mu.Lock()
		work += 1 << c
		mu.Unlock()
		return bcrypt.CompareHashAndPassword(h, p)
	}
	defer func() { bcryptCompare = bcrypt.CompareHashAndPassword }()
	want := 1 << (bcrypt.MinCost + 2)
	for _, name := range []string{"nosuchuser", "high", "low"} {
		work = 0
		if users.checkPassword(name, "wrong") != nil {
			t.Fatalf("wrong password accepted for %s", name)
		}
		if work != want {
			t.Errorf("a wrong password for %s cost %d units of bcrypt work, want %d", name, work, want)
		}
	}
	// A right password pays only its own hash.
	work = 0
	if users.checkPassword("low", "pw") == nil || work != 1<<bcrypt.MinCost {
		t.Errorf("right password for low: work %d, want %d", work, 1<<bcrypt.MinCost)
	}
}

// TestLoginTimeout closes a connection that keeps sending commands
// without ever logging in, and leaves a logged-in one open.
func TestLoginTimeout(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits.LoginTimeout = config.Duration(300 * time.Millisecond)
	ts := startServer(t, cfg)
	loggedIn := dialCtrl(t, ts.Addr, "")
	loggedIn.login("alice")

	c := dialCtrl(t, ts.Addr, "")
	for i := 0; ; i++ {
		if i == 200 {
			t.Fatal("unauthenticated session still open after 200 FEATs")
		}
		code, _ := c.cmd("FEAT")
		if code == 421 {
			break
		}
		if code != 211 {
			t.Fatalf("FEAT: reply %d", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
	assertClosed(t, c.conn)
	loggedIn.must(257, "PWD")
}

// TestAuthTLSAfterLoginResetsLogin logs in over plain text, then upgrades
// with AUTH TLS: the session must log in again.
func TestAuthTLSAfterLoginResetsLogin(t *testing.T) {
	cfg := testConfig(t)
	tf := writeTLSFiles(t, t.TempDir(), "x")
	cfg.TLS.Cert, cfg.TLS.Key = tf.Cert, tf.Key
	ts := startServer(t, cfg)

	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(257, "PWD")
	c.startTLS(&tls.Config{RootCAs: tf.Pool, ServerName: "127.0.0.1"})
	c.must(530, "PWD")
	c.login("bob")
	if msg := c.must(257, "PWD"); msg == "" {
		t.Fatal("empty PWD reply")
	}
	c.must(221, "QUIT")
}
