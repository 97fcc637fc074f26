package server

import (
	"crypto/tls"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// TestTLSRequiredPerUser: a user with tls_required is refused at USER
// without TLS (before its password crosses the network) and cannot turn
// data protection off; other users of the same server log in in the
// clear as before.
func TestTLSRequiredPerUser(t *testing.T) {
	cfg, tf := tlsServerConfig(t)
	cfg.Users[0].TLSRequired = true // alice
	ts := startServer(t, cfg)

	c, err := textproto.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	id, _ := c.Cmd("USER alice")
	c.StartResponse(id)
	code, msg, _ := c.ReadResponse(0)
	c.EndResponse(id)
	if code != 530 || !strings.Contains(msg, "requires TLS") {
		t.Errorf("USER alice in the clear: %d %s, want 530 asking for TLS", code, msg)
	}

	dial(t, ts.Addr, "bob") // in the clear, as before

	plain := testConfig(t)
	plain.Users[0].TLSRequired = true
	if err := plain.Validate(); err == nil || !strings.Contains(err.Error(), "users[0].tls_required: needs tls.cert") {
		t.Errorf("tls_required without a certificate: %v", err)
	}

	tc := &tls.Config{RootCAs: tf.Pool, ServerName: "127.0.0.1", ClientSessionCache: tls.NewLRUClientSessionCache(8)}
	a := dial(t, ts.Addr, "alice", ftp.DialWithExplicitTLS(tc))
	if err := a.Stor("secret.txt", strings.NewReader("over TLS")); err != nil {
		t.Errorf("alice over TLS: %v", err)
	}
}

// TestReloadUsers: Reload makes new users log in and removed ones stop
// logging in; a session of an unchanged user keeps working while one of
// a removed user is closed at its next command; a bad config is refused
// whole, and settings read at start are named.
func TestReloadUsers(t *testing.T) {
	cfg := testConfig(t)
	ts := startServer(t, cfg)
	old := dial(t, ts.Addr, "alice")
	removed := dial(t, ts.Addr, "bob")

	next := testConfig(t)
	next.Root, next.Listen = cfg.Root, "127.0.0.1:2999"
	next.Users = append(slices.Clone(next.Users[:1]), UserConfig{Name: "carol", PasswordHash: userHash, Home: "carol"})
	restart, err := ts.Reload(next)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if !slices.Equal(restart, []string{"listen"}) {
		t.Errorf("reload says %v need a restart, want [listen]", restart)
	}
	dial(t, ts.Addr, "carol")
	c, err := ftp.Dial(ts.Addr, ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("bob", testPassword); err == nil {
		t.Error("bob, removed by the reload, still logs in")
	}
	if _, err := old.List("/"); err != nil {
		t.Errorf("a session from before the reload: %v", err)
	}
	if err := removed.NoOp(); err == nil || replyCode(err) != 421 {
		t.Errorf("the session of a removed user: %v, want 421", err)
	}

	bad := next
	bad.Users = []UserConfig{{Name: "dave", Home: "dave"}} // neither password nor certificate
	if _, err := ts.Reload(bad); err == nil {
		t.Fatal("a bad config was applied")
	}
	dial(t, ts.Addr, "carol") // the previous users stay
}
