package server

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPassivePerAddressCap lets one address hold at most
// limits.max_passive_per_ip passive ports over all its sessions, each
// session at most one, and leaves other addresses their own share.
func TestPassivePerAddressCap(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits.MaxPassivePerIP = 2
	ts := startServer(t, cfg)
	const ip = "127.0.0.5"
	var cs []*ctrl
	for range 3 {
		c := dialCtrl(t, ts.Addr, ip)
		c.login("alice")
		cs = append(cs, c)
	}
	// EPSV again in one session replaces its listener, it does not add one.
	cs[0].epsv()
	cs[0].epsv()
	if n := ts.passiveOpen(ip); n != 1 {
		t.Fatalf("one session after two EPSV holds %d passive listeners, want 1", n)
	}
	cs[1].epsv()
	code, msg := cs[2].cmd("EPSV")
	if code != 425 || !strings.Contains(msg, "limit 2") {
		t.Fatalf("third EPSV from one address: %d %q, want 425 naming the limit", code, msg)
	}
	other := dialCtrl(t, ts.Addr, "127.0.0.6")
	other.login("bob")
	other.epsv()
	// A session that ends gives its port back.
	cs[0].must(221, "QUIT")
	for i := 0; ts.passiveOpen(ip) != 1; i++ {
		if i == 1000 {
			t.Fatalf("ended session's passive listener still counted: %d", ts.passiveOpen(ip))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cs[2].epsv()
}

// TestPassiveTimeout closes a passive listener nobody used, frees its
// port, and tells a late transfer to ask for a new one.
func TestPassiveTimeout(t *testing.T) {
	ts := startServer(t, testConfig(t), func(s *Server) { s.PassiveTimeout = 50 * time.Millisecond })
	c := dialCtrl(t, ts.Addr, "127.0.0.7")
	c.login("alice")
	addr := c.epsv()
	for i := 0; ts.passiveOpen("127.0.0.7") != 0; i++ {
		if i == 1000 {
			t.Fatal("unused passive listener never timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if conn, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		conn.Close()
		t.Fatalf("timed-out passive port %s still accepts connections", addr)
	}
	if code, msg := c.cmd("LIST"); code != 425 || !strings.Contains(msg, "again") {
		t.Fatalf("LIST after the passive timeout: %d %q, want 425", code, msg)
	}
	// A transfer that takes its listener in time is not cut by the timer.
	ts2 := startServer(t, testConfig(t), func(s *Server) { s.PassiveTimeout = time.Hour })
	c2 := dialCtrl(t, ts2.Addr, "")
	c2.login("alice")
	if code, msg, _ := c2.dataCmd("LIST", nil); code != 226 {
		t.Fatalf("LIST: %d %q", code, msg)
	}
}

// TestPassivePoolFull answers 425 saying so when every port of
// passive_ports is taken.
func TestPassivePoolFull(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	cfg := testConfig(t)
	if port < 1024 {
		t.Fatalf("ephemeral port %d below 1024", port)
	}
	cfg.PassivePorts = strconv.Itoa(port) + "-" + strconv.Itoa(port)
	ts := startServer(t, cfg)
	a := dialCtrl(t, ts.Addr, "127.0.0.8")
	a.login("alice")
	a.epsv()
	b := dialCtrl(t, ts.Addr, "127.0.0.9")
	b.login("bob")
	if code, msg := b.cmd("EPSV"); code != 425 || !strings.Contains(msg, "pool is full") {
		t.Fatalf("EPSV with the pool full: %d %q, want 425 saying the pool is full", code, msg)
	}
	if n := ts.passiveOpen("127.0.0.9"); n != 0 {
		t.Fatalf("refused EPSV still holds %d slots", n)
	}
}

// TestPassivePerIPLimitDefault derives the automatic per-address cap from
// the passive port range.
func TestPassivePerIPLimitDefault(t *testing.T) {
	for _, tt := range []struct {
		ports     string
		perIP     int
		set, want int
	}{
		{"50000-50100", 32, 0, 25},
		{"50000-50002", 32, 0, 1},
		{"", 32, 0, 32},
		{"50000-50100", 10, 0, 10},
		{"50000-50100", 32, 7, 7},
	} {
		c := DefaultConfig()
		c.PassivePorts, c.Limits.MaxPerIP, c.Limits.MaxPassivePerIP = tt.ports, tt.perIP, tt.set
		if got := c.PassivePerIPLimit(); got != tt.want {
			t.Errorf("passive_ports %q, max_per_ip %d, max_passive_per_ip %d: limit %d, want %d", tt.ports, tt.perIP, tt.set, got, tt.want)
		}
	}
}
