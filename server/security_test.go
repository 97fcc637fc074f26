package server

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
)

// send writes one raw command line (any bytes but CR LF) and returns the
// final reply, refreshing the connection's deadline so that a long test
// never trips over the 30 s one dialCtrl set.
func (c *ctrl) send(line string) (int, string) {
	c.t.Helper()
	c.conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		c.t.Fatalf("send %q: %v", abbrev(line), err)
	}
	code, msg, err := c.tp.ReadResponse(0)
	if err != nil && code == 0 {
		c.t.Fatalf("%q: no reply (hang or closed session): %v", abbrev(line), err)
	}
	return code, msg
}

// dataCmd runs a command over an EPSV data connection: it uploads payload
// (when not nil) or downloads everything, and returns the final reply and
// the downloaded bytes. A command refused before 150 returns that reply.
func (c *ctrl) dataCmd(line string, payload []byte) (int, string, []byte) {
	c.t.Helper()
	addr := c.epsv()
	dc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		c.t.Fatalf("dial data %s: %v", addr, err)
	}
	defer dc.Close()
	code, msg := c.send(line)
	if code >= 200 {
		return code, msg, nil
	}
	if code != 150 && code != 125 {
		c.t.Fatalf("%q: preliminary reply %d %q", abbrev(line), code, msg)
	}
	var data []byte
	if payload != nil {
		dc.SetDeadline(time.Now().Add(20 * time.Second))
		dc.Write(payload)
		dc.Close()
	} else {
		data = []byte(readAllConn(c.t, dc))
	}
	code, msg2 := c.send2()
	return code, msg + "\n" + msg2, data
}

// upload runs dataCmd with payload and fails the test unless it ends in 226.
func (c *ctrl) upload(line string, payload []byte) {
	c.t.Helper()
	if code, msg, _ := c.dataCmd(line, payload); code != 226 {
		c.t.Fatalf("%s: %d %q", abbrev(line), code, msg)
	}
}

// send2 reads the next reply without sending anything.
func (c *ctrl) send2() (int, string) {
	c.t.Helper()
	c.conn.SetDeadline(time.Now().Add(20 * time.Second))
	code, msg, err := c.tp.ReadResponse(0)
	if err != nil && code == 0 {
		c.t.Fatalf("no final reply: %v", err)
	}
	return code, msg
}

func abbrev(s string) string {
	if len(s) > 80 {
		return s[:80] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

// fileState describes one path for a before/after comparison.
type fileState struct {
	mode  fs.FileMode
	size  int64
	mtime int64
	sum   string // content hash of regular files, target of links
}

// snapshot records every path below each of dirs (skip names subtrees
// left out, given as absolute paths) and each single file in files.
func snapshot(t *testing.T, dirs []string, skip map[string]bool, files []string) map[string]fileState {
	t.Helper()
	out := make(map[string]fileState)
	record := func(p string, fi fs.FileInfo) {
		st := fileState{mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime().UnixNano()}
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			st.sum = hex.EncodeToString(sum[:])
		case fi.Mode()&fs.ModeSymlink != 0:
			st.sum, _ = os.Readlink(p)
		}
		out[p] = st
	}
	for _, d := range dirs {
		err := filepath.Walk(d, func(p string, fi fs.FileInfo, err error) error {
			if err != nil {
				return err
			}
			if skip[p] {
				if fi.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			record(p, fi)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		if fi, err := os.Lstat(f); err == nil {
			record(f, fi)
		}
	}
	return out
}

func diffSnapshots(t *testing.T, before, after map[string]fileState) {
	t.Helper()
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			t.Errorf("outside the home, %s was deleted or renamed", p)
		case a != b:
			t.Errorf("outside the home, %s changed: %+v -> %+v", p, b, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("outside the home, %s was created", p)
		}
	}
}

// traversalWorld is a storage root with alice's home full of escape
// hatches, bob's home, server data and a directory outside the root.
type traversalWorld struct {
	root, home, outside string
	markers             []string // strings no reply or data may ever contain
}

func newTraversalWorld(t *testing.T, root string) *traversalWorld {
	w := &traversalWorld{root: root, home: filepath.Join(root, "alice"), outside: t.TempDir()}
	mustWrite := func(p, content string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		w.markers = append(w.markers, content, hex.EncodeToString(sum[:]))
	}
	mustWrite(filepath.Join(root, "bob", "bob-secret.txt"), "SENTINEL-BOB-CONTENT-7f3a")
	mustWrite(filepath.Join(root, "bob", "bob-hidden-zq.dat"), "SENTINEL-BOB-HIDDEN-19c2")
	mustWrite(filepath.Join(root, "root-hidden-zq.dat"), "SENTINEL-ROOT-CONTENT-55e1")
	mustWrite(filepath.Join(w.outside, "secret.txt"), "SENTINEL-OUTSIDE-CONTENT-a0b4")
	mustWrite(filepath.Join(w.outside, "outside-hidden-zq.dat"), "SENTINEL-OUTSIDE-HIDDEN-0d77")
	// Names that only exist outside the home: no listing may show them.
	w.markers = append(w.markers, "bob-hidden-zq", "root-hidden-zq", "outside-hidden-zq", "root:x:0:")
	if _, err := os.Stat("/etc/os-release"); err == nil {
		w.markers = append(w.markers, "os-release")
	}
	if b, err := os.ReadFile("/etc/passwd"); err == nil {
		sum := sha256.Sum256(b)
		w.markers = append(w.markers, hex.EncodeToString(sum[:]))
	}
	return w
}

// resetHome empties alice's home (keeping the directory the server has
// open) and plants the test files and symbolic links again.
func (w *traversalWorld) resetHome(t *testing.T) {
	t.Helper()
	entries, _ := os.ReadDir(w.home)
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(w.home, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(w.home, "a.txt"), []byte("alice's own file"), 0o644))
	must(os.MkdirAll(filepath.Join(w.home, "sub", "deeper"), 0o755))
	must(os.Symlink(filepath.Join(w.root, "bob"), filepath.Join(w.home, "tobob")))
	must(os.Symlink("../bob", filepath.Join(w.home, "link-rel")))
	must(os.Symlink("/etc", filepath.Join(w.home, "toetc")))
	must(os.Symlink(filepath.Join(w.outside, "secret.txt"), filepath.Join(w.home, "tosecret")))
	must(os.Symlink(w.outside, filepath.Join(w.home, "tooutside")))
	must(os.Symlink(w.root, filepath.Join(w.home, "toroot")))
	must(os.Symlink("../..", filepath.Join(w.home, "sub", "up")))
	must(os.Symlink("../../bob/bob-secret.txt", filepath.Join(w.home, "sub", "deeper", "bobfile")))
}

// hostileArg is one path argument; readOnly ones are only sent through
// commands that read (they point at the real /etc).
type hostileArg struct {
	arg      string
	readOnly bool
}

func hostilePaths(w *traversalWorld) []hostileArg {
	args := []string{
		"..", "../", "../..", "../../..", "../../etc/passwd", "/..", "/../bob", "/../bob/bob-secret.txt",
		"/../../bob/x", `..\..\x`, `..\bob\bob-secret.txt`, `sub\..\..\bob`, "a/../../..", "a/../../../bob/bob-secret.txt",
		"sub/../../bob/bob-secret.txt", "a.txt/../../bob", "/./../bob/./bob-secret.txt", ".../bob", "...",
		"x\x00../../bob/bob-secret.txt", "\x00", "a.txt\x00.jpg", "../\x00/etc",
		"//etc", "//etc/passwd", "///../..//bob", "/etc/passwd", "/etc", "/root", "/proc/self/environ",
		filepath.Join(w.outside, "secret.txt"), filepath.Join(w.root, "bob", "bob-secret.txt"), w.root,
		"../.syncserver/tmp", "/../.syncserver", "../.syncserver/versions/bob", ".syncserver/tmp",
		"~", "~bob/bob-secret.txt", "%2e%2e/%2e%2e/bob", "..%2fbob", "a\rb/../../bob",
		"tobob", "tobob/", "tobob/bob-secret.txt", "tobob/new.txt", "tobob/..", "link-rel/bob-secret.txt",
		"tosecret", "tooutside", "tooutside/secret.txt", "tooutside/new.txt", "tooutside/.", "toroot",
		"toroot/bob/bob-secret.txt", "toroot/root-hidden-zq.dat", "sub/up", "sub/up/bob/bob-secret.txt",
		"sub/deeper/bobfile", "sub/up/../outside",
		strings.Repeat("n", 300), strings.Repeat("d/", 1200) + "x", strings.Repeat("../", 1200) + "bob",
		strings.Repeat("é", 200),
	}
	out := make([]hostileArg, 0, len(args)+4)
	for _, a := range args {
		out = append(out, hostileArg{arg: a})
	}
	for _, a := range []string{"toetc", "toetc/passwd", "toetc/.", "sub/up/../../../etc/passwd"} {
		out = append(out, hostileArg{arg: a, readOnly: true})
	}
	return out
}

// TestTraversalOverProtocol sends every hostile path through every
// path-taking command and checks that nothing outside alice's home was
// read, created, changed, renamed or deleted.
func TestTraversalOverProtocol(t *testing.T) {
	if testing.Short() {
		t.Skip("long corpus")
	}
	cfg := testConfig(t)
	cfg.Versions.Keep = 0
	w := newTraversalWorld(t, cfg.Root)
	ts := startServer(t, cfg)
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice") // creates the home and ROOT/.syncserver/tmp
	w.resetHome(t)
	if err := os.MkdirAll(filepath.Join(cfg.Root, ".syncserver", "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}

	skip := map[string]bool{
		w.home: true,
		// Changes legitimately when alice uploads; its content is checked below.
		filepath.Join(cfg.Root, ".syncserver", "tmp"):      true,
		filepath.Join(cfg.Root, ".syncserver", "versions"): true,
	}
	// Not /etc/passwd: other packages' tests, run in parallel, add and
	// remove system users (vsftpd interop). Its content is still a leak
	// marker ("root:x:0:"), and no write command here points into /etc.
	extra := []string{"/etc/hostname", "/etc/hosts", "/etc/new.txt"}
	before := snapshot(t, []string{cfg.Root, w.outside}, skip, extra)

	check := func(what, text string) {
		t.Helper()
		for _, m := range w.markers {
			if strings.Contains(text, m) {
				t.Errorf("%s leaked %q:\n%s", abbrev(what), m, abbrev(text))
			}
		}
	}
	codes := map[int]int{}
	final := func(what string, code int) {
		t.Helper()
		codes[code]++
		if code < 200 || code > 599 {
			t.Errorf("%s: final reply %d", abbrev(what), code)
		}
	}
	payload := []byte("EVIL-PAYLOAD written by the traversal test")
	for _, h := range hostilePaths(w) {
		a := h.arg
		w.resetHome(t)
		c.must(250, "CWD /")
		reads := []string{"SIZE", "MDTM", "HASH", "MLST", "STAT"}
		for _, verb := range reads {
			code, msg := c.send(verb + " " + a)
			final(verb+" "+a, code)
			check(verb+" "+a, msg)
		}
		for _, verb := range []string{"RETR", "LIST", "NLST", "MLSD", "LIST -la"} {
			code, msg, data := c.dataCmd(verb+" "+a, nil)
			final(verb+" "+a, code)
			check(verb+" "+a, msg+string(data))
		}
		code, msg := c.send("CWD " + a)
		final("CWD "+a, code)
		check("CWD "+a, msg)
		if code == 250 {
			// Whatever directory that was, it lies inside the home.
			_, _, data := c.dataCmd("LIST", nil)
			check("LIST after CWD "+a, string(data))
			c.must(250, "CWD /")
		}
		if h.readOnly {
			continue
		}
		for _, verb := range []string{"STOR", "APPE", "STOU"} {
			code, msg, _ := c.dataCmd(verb+" "+a, payload)
			final(verb+" "+a, code)
			check(verb+" "+a, msg)
		}
		for _, line := range []string{"MFMT 20000101000000 " + a, "MKD " + a, "DELE " + a, "RMD " + a} {
			code, msg := c.send(line)
			final(line, code)
			check(line, msg)
		}
		w.resetHome(t)
		if code, _ := c.send("RNFR " + a); code == 350 {
			code, msg := c.send("RNTO /renamed-away")
			final("RNTO after RNFR "+a, code)
			check("RNFR "+a, msg)
		}
		w.resetHome(t)
		c.must(350, "RNFR /a.txt")
		code, msg = c.send("RNTO " + a)
		final("RNTO "+a, code)
		check("RNTO "+a, msg)
	}
	c.must(221, "QUIT")
	t.Logf("replies by code: %v", codes)

	after := snapshot(t, []string{cfg.Root, w.outside}, skip, extra)
	diffSnapshots(t, before, after)
	if left, _ := os.ReadDir(filepath.Join(cfg.Root, ".syncserver", "tmp")); len(left) != 0 {
		t.Errorf("temp debris left: %v", left)
	}
}

// TestAbsoluteHostPathMapsInsideHome shows that "/etc/passwd" names a file
// in the home, never the host's.
func TestAbsoluteHostPathMapsInsideHome(t *testing.T) {
	cfg := testConfig(t)
	ts := startServer(t, cfg)
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(257, "MKD /etc")
	if code, msg, _ := c.dataCmd("STOR /etc/passwd", []byte("alice's passwd")); code != 226 {
		t.Fatalf("STOR /etc/passwd: %d %q", code, msg)
	}
	got, err := os.ReadFile(filepath.Join(cfg.Root, "alice", "etc", "passwd"))
	if err != nil || string(got) != "alice's passwd" {
		t.Fatalf("home/etc/passwd = %q, %v", got, err)
	}
	code, _, data := c.dataCmd("RETR //etc/../etc/passwd", nil)
	if code != 226 || string(data) != "alice's passwd" {
		t.Fatalf("RETR //etc/../etc/passwd = %d %q", code, data)
	}
	c.must(250, "CWD ../../../etc")
	if msg := c.must(257, "PWD"); !strings.HasPrefix(msg, `"/etc"`) {
		t.Fatalf("PWD after CWD ../../../etc = %q", msg)
	}
	c.must(553, "RETR ..\\passwd")
	c.must(553, "SIZE pass\x00wd")
}

// TestActiveModeBounce checks that PORT and EPRT only ever reach the
// client's own address on an unprivileged port.
func TestActiveModeBounce(t *testing.T) {
	cfg := testConfig(t)
	cfg.ActiveMode = true
	ts := startServer(t, cfg)
	if err := os.MkdirAll(filepath.Join(cfg.Root, "alice"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cfg.Root, "alice", "f.txt"), []byte("active data"), 0o644)

	c := dialCtrl(t, ts.Addr, "127.0.0.1")
	c.login("alice")
	for _, line := range []string{
		"PORT 127,0,0,2,39,16",       // another IP
		"PORT 10,1,2,3,39,16",        // another network
		"PORT 127,0,0,1,0,21",        // privileged port
		"PORT 127,0,0,1,3,255",       // 1023
		"EPRT |1|127.0.0.2|10000|",   // another IP
		"EPRT |1|127.0.0.1|25|",      // privileged port
		"EPRT |2|::1|10000|",         // another address family of "the same" host
		"EPRT |1|0.0.0.0|10000|",     // wildcard
		"EPRT |1|127.0.0.1|0|",       // port 0
		"PORT 127,0,0,1,300,1",       // malformed
		"EPRT |3|127.0.0.1|10000|",   // unknown protocol
		"EPRT |1|127.0.0.1|70000|",   // port out of range
		"EPRT |1|127.0.0.1|10000|x|", // trailing junk
	} {
		code, msg := c.send(line)
		if code < 500 {
			t.Errorf("%s: reply %d %q, want refusal", line, code, msg)
		}
	}
	// The refusals left no target behind: a transfer has nowhere to go.
	c.must(425, "RETR f.txt")

	// A correct PORT to the client's own listener works.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	c.must(200, "PORT 127,0,0,1,%d,%d", port>>8, port&0xff)
	got := make(chan string, 1)
	go func() {
		dc, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		got <- readAllConn(t, dc)
		dc.Close()
	}()
	c.must(150, "RETR f.txt")
	c.expect(226)
	if s := <-got; s != "active data" {
		t.Fatalf("active RETR got %q", s)
	}
	c.must(200, "EPRT |1|127.0.0.1|%d|", port)
	go func() {
		dc, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		got <- readAllConn(t, dc)
		dc.Close()
	}()
	c.must(150, "NLST")
	c.expect(226)
	if s := <-got; s != "f.txt\r\n" {
		t.Fatalf("active NLST got %q", s)
	}

	// With active mode off, PORT and EPRT are not implemented.
	off := startServer(t, testConfig(t))
	c2 := dialCtrl(t, off.Addr, "")
	c2.login("alice")
	c2.must(502, "PORT 127,0,0,1,%d,%d", port>>8, port&0xff)
	c2.must(502, "EPRT |1|127.0.0.1|%d|", port)
}

// TestPassiveTheft has a thief on 127.0.0.2 connect to alice's passive
// port before she does: the thief is dropped and alice gets her data.
func TestPassiveTheft(t *testing.T) {
	cfg := testConfig(t)
	ts := startServer(t, cfg)
	os.MkdirAll(filepath.Join(cfg.Root, "alice"), 0o755)
	want := strings.Repeat("alice's data ", 1000)
	os.WriteFile(filepath.Join(cfg.Root, "alice", "f.txt"), []byte(want), 0o644)

	c := dialCtrl(t, ts.Addr, "127.0.0.1")
	c.login("alice")
	addr := c.epsv()
	thiefDialer := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	thief, err := thiefDialer.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("thief dial: %v", err)
	}
	defer thief.Close()
	// The thief's connection is in the listener's queue first.
	dc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial data: %v", err)
	}
	c.must(150, "RETR f.txt")
	if got := readAllConn(t, dc); got != want {
		t.Fatalf("alice got %d bytes, want %d", len(got), len(want))
	}
	c.expect(226)
	if stolen := readAllConn(t, thief); stolen != "" {
		t.Fatalf("thief got %d bytes", len(stolen))
	}
	c.must(200, "NOOP")
}

// TestLoginBan bans an IP after max_login_failures and keeps serving others.
func TestLoginBan(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits.MaxLoginFailures = 3
	ts := startServer(t, cfg)

	c := dialCtrl(t, ts.Addr, "127.0.0.1")
	for i := 0; i < 2; i++ {
		c.must(331, "USER alice")
		c.must(530, "PASS wrong-%d", i)
	}
	c.must(331, "USER nosuchuser")
	c.must(421, "PASS wrong")
	assertClosed(t, c.conn)

	// The banned IP is refused at connect, before any command.
	refused := rawGreeting(t, ts.Addr, "127.0.0.1")
	if !strings.HasPrefix(refused, "421") {
		t.Fatalf("banned IP greeted with %q", refused)
	}
	// Another IP logs in.
	other := dialCtrl(t, ts.Addr, "127.0.0.2")
	other.login("alice")
	other.must(221, "QUIT")
}

// TestLoginBanExpires lets a short ban run out.
func TestLoginBanExpires(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits.MaxLoginFailures = 2
	cfg.Limits.BanDuration = config.Duration(200 * time.Millisecond)
	ts := startServer(t, cfg)
	c := dialCtrl(t, ts.Addr, "127.0.0.3")
	c.must(331, "USER alice")
	c.must(530, "PASS wrong")
	c.must(331, "USER alice")
	c.must(421, "PASS wrong")
	for i := 0; ; i++ {
		if g := rawGreeting(t, ts.Addr, "127.0.0.3"); strings.HasPrefix(g, "220") {
			break
		}
		if i == 200 {
			t.Fatal("ban never expired")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c = dialCtrl(t, ts.Addr, "127.0.0.3")
	c.login("alice")
}

// rawGreeting connects from laddr and returns the first line the server sends.
func rawGreeting(t *testing.T, addr, laddr string) string {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(laddr)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 512)
	n, _ := io.ReadAtLeast(conn, b, 4)
	return string(b[:n])
}

// assertClosed checks that the server closed conn (EOF or reset, not a timeout).
func assertClosed(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 4096)
	for i := 0; i < 100; i++ {
		_, err := conn.Read(b)
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("connection still open")
		}
		return
	}
	t.Fatal("connection still sending")
}

// TestLongCommandLine closes a session that sends a 5000-byte line and
// keeps serving the others.
func TestLongCommandLine(t *testing.T) {
	ts := startServer(t, testConfig(t))
	bystander := dialCtrl(t, ts.Addr, "")
	bystander.login("alice")
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	code, _ := c.send("NOOP " + strings.Repeat("x", 5000))
	if code != 500 {
		t.Fatalf("long line: reply %d, want 500", code)
	}
	assertClosed(t, c.conn)
	// Also before login, and without any line end at all.
	c2 := dialCtrl(t, ts.Addr, "")
	c2.conn.Write([]byte(strings.Repeat("A", 5000)))
	if code, _ := c2.read(); code != 500 {
		t.Fatalf("unterminated long line: reply %d, want 500", code)
	}
	assertClosed(t, c2.conn)
	bystander.must(200, "NOOP")
	fresh := dialCtrl(t, ts.Addr, "")
	fresh.login("bob")
	fresh.must(200, "NOOP %s", strings.Repeat("y", 4000))
}

// TestConnectionLimits checks max_per_ip and max_connections.
func TestConnectionLimits(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits.MaxConnections = 3
	cfg.Limits.MaxPerIP = 2
	ts := startServer(t, cfg)

	a1 := dialCtrl(t, ts.Addr, "127.0.0.1")
	a2 := dialCtrl(t, ts.Addr, "127.0.0.1")
	if g := rawGreeting(t, ts.Addr, "127.0.0.1"); !strings.HasPrefix(g, "421") {
		t.Fatalf("third connection from one IP greeted with %q", g)
	}
	b1 := dialCtrl(t, ts.Addr, "127.0.0.2")
	b1.login("bob")
	if g := rawGreeting(t, ts.Addr, "127.0.0.3"); !strings.HasPrefix(g, "421") {
		t.Fatalf("connection past max_connections greeted with %q", g)
	}
	a1.login("alice")
	a2.login("alice")
	b1.must(200, "NOOP")
	a1.must(221, "QUIT")
	assertClosed(t, a1.conn)
	// The slot frees once the session has ended (asynchronously).
	for i := 0; ; i++ {
		if g := rawGreeting(t, ts.Addr, "127.0.0.1"); strings.HasPrefix(g, "220") {
			break
		}
		if i == 200 {
			t.Fatal("slot never freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	a2.must(200, "NOOP")
}

// TestAnonymousRefused refuses the conventional anonymous logins.
func TestAnonymousRefused(t *testing.T) {
	ts := startServer(t, testConfig(t))
	c := dialCtrl(t, ts.Addr, "")
	for _, name := range []string{"anonymous", "ftp", "ANONYMOUS", "Ftp"} {
		c.must(530, "USER %s", name)
		if code, _ := c.send("PASS guest@example.com"); code != 503 && code != 530 {
			t.Errorf("PASS after USER %s: reply %d", name, code)
		}
		c.must(530, "PWD")
	}
}

// TestCommandsBeforeLogin answers 530 to everything but the commands a
// client needs to log in.
func TestCommandsBeforeLogin(t *testing.T) {
	cfg := testConfig(t)
	tf := writeTLSFiles(t, t.TempDir(), "x")
	cfg.TLS.Cert, cfg.TLS.Key = tf.Cert, tf.Key
	ts := startServer(t, cfg)
	c := dialCtrl(t, ts.Addr, "")
	for _, line := range []string{
		"LIST", "NLST", "MLSD", "MLST /", "RETR a", "STOR a", "APPE a", "STOU", "CWD /", "CDUP", "PWD",
		"MKD d", "RMD d", "DELE a", "RNFR a", "RNTO b", "SIZE a", "MDTM a", "MFMT 20000101000000 a",
		"HASH a", "PASV", "EPSV", "PORT 127,0,0,1,4,1", "EPRT |1|127.0.0.1|1025|", "REST 0", "TYPE I",
		"STAT", "STAT /", "SITE HELP", "ABOR", "OPTS HASH SHA-1", "OPTS MLST type;", "XPWD", "XCWD /",
	} {
		if code, msg := c.send(line); code != 530 {
			t.Errorf("%s before login: %d %q, want 530", line, code, msg)
		}
	}
	c.must(211, "FEAT")
	c.must(331, "USER alice")
	c.must(530, "PASS wrong")
	c.must(200, "OPTS UTF8 ON")
	c.startTLS(&tls.Config{RootCAs: tf.Pool, ServerName: "127.0.0.1"})
	c.login("alice")
	c.must(257, "PWD")
	c.must(221, "QUIT")
}

// TestTLSRequired refuses plaintext logins and clear data connections.
func TestTLSRequired(t *testing.T) {
	cfg := testConfig(t)
	tf := writeTLSFiles(t, t.TempDir(), "x")
	cfg.TLS.Cert, cfg.TLS.Key = tf.Cert, tf.Key
	cfg.TLS.Require = true
	ts := startServer(t, cfg)

	plain := dialCtrl(t, ts.Addr, "")
	plain.must(530, "USER alice")
	plain.must(503, "PASS %s", testPassword)
	plain.must(530, "PWD")

	c := dialCtrl(t, ts.Addr, "")
	c.startTLS(&tls.Config{RootCAs: tf.Pool, ServerName: "127.0.0.1", ClientSessionCache: tls.NewLRUClientSessionCache(4)})
	c.login("alice")
	// No PROT P yet: a transfer is refused before any data moves.
	c.epsv()
	c.must(521, "LIST")
	c.must(503, "PROT C") // PROT needs PBSZ first
	c.must(200, "PBSZ 0")
	if code, _ := c.send("PROT C"); code != 534 && code != 521 {
		t.Fatalf("PROT C under tls.require: reply %d", code)
	}
	c.epsv()
	c.must(521, "NLST")
	c.must(200, "PROT P")
	c.must(257, "PWD")
}

// TestBareCRNeverReachesAReply sends a bare CR inside an argument that the
// server echoes: no reply line may carry it (it could forge reply lines
// for clients that split on CR).
func TestBareCRNeverReachesAReply(t *testing.T) {
	ts := startServer(t, testConfig(t))
	conn, err := net.DialTimeout("tcp", ts.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(conn, "USER x\r230 fake\r\nQUIT\r\n")
	b, _ := io.ReadAll(conn)
	if bytes.Contains(bytes.ReplaceAll(b, []byte("\r\n"), nil), []byte("\r")) {
		t.Fatalf("reply carries a bare CR: %q", b)
	}
}
