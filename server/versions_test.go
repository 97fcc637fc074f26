package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/server/versions"
)

// verStore uploads content to p, failing the test on error.
func verStore(t *testing.T, c *ftp.ServerConn, p, content string) {
	t.Helper()
	if err := c.Stor(p, strings.NewReader(content)); err != nil {
		t.Fatalf("STOR %s: %v", p, err)
	}
}

// verRetr downloads p.
func verRetr(t *testing.T, c *ftp.ServerConn, p string) (string, error) {
	t.Helper()
	r, err := c.Retr(p)
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return string(b), err
}

// verNames lists the versions of the file p through /.versions (NLST),
// failing on error; a file without versions has none.
func verNames(t *testing.T, c *ftp.ServerConn, p string) []string {
	t.Helper()
	names, err := c.NameList("/.versions" + p)
	if err != nil {
		if replyCode(err) == 550 {
			return nil
		}
		t.Fatalf("NLST /.versions%s: %v", p, err)
	}
	return names
}

// verContents downloads every version of p, oldest first.
func verContents(t *testing.T, c *ftp.ServerConn, p string) []string {
	t.Helper()
	var out []string
	for _, n := range verNames(t, c, p) {
		got, err := verRetr(t, c, "/.versions"+p+"/"+n)
		if err != nil {
			t.Fatalf("RETR version %s of %s: %v", n, p, err)
		}
		out = append(out, got)
	}
	return out
}

// rawData runs a data command (LIST, NLST, MLSD, RETR) on a raw control
// connection and returns what came over the data connection.
func (c *ctrl) rawData(line string) string {
	c.t.Helper()
	dc, err := net.DialTimeout("tcp", c.epsv(), 5*time.Second)
	if err != nil {
		c.t.Fatalf("dial data: %v", err)
	}
	defer dc.Close()
	c.must(150, "%s", line)
	data := readAllConn(c.t, dc)
	c.expect(226)
	return data
}

func TestVersionsKeepNewest(t *testing.T) {
	cfg := testConfig(t)
	cfg.Versions.Keep = 3
	ts := startServer(t, cfg)
	c := dial(t, ts.Addr, "alice")
	for i := range 6 {
		verStore(t, c, "/a.txt", fmt.Sprintf("content %d", i))
	}
	names := verNames(t, c, "/a.txt")
	if len(names) != 3 {
		t.Fatalf("versions %v, want 3", names)
	}
	// Names are times and sort by time.
	var prev time.Time
	for _, n := range names {
		at, err := time.Parse(versions.NameLayout, n)
		if err != nil {
			t.Fatalf("version name %q is not a time: %v", n, err)
		}
		if !at.After(prev) {
			t.Fatalf("names %v not in time order", names)
		}
		prev = at
	}
	got := verContents(t, c, "/a.txt")
	if want := []string{"content 2", "content 3", "content 4"}; !slices.Equal(got, want) {
		t.Fatalf("versions hold %q, want %q", got, want)
	}
	if cur, _ := verRetr(t, c, "/a.txt"); cur != "content 5" {
		t.Fatalf("current = %q", cur)
	}
}

func TestVersionsPrunedByAge(t *testing.T) {
	cfg := testConfig(t)
	cfg.Versions.MaxAge = config.Duration(50 * time.Millisecond)
	ts := startServer(t, cfg, func(s *Server) { s.PruneInterval = 10 * time.Millisecond })
	c := dial(t, ts.Addr, "alice")
	verStore(t, c, "/old.txt", "one")
	verStore(t, c, "/old.txt", "two")
	for range 1500 { // bounded: about 30 s on a very loaded machine
		if len(verNames(t, c, "/old.txt")) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the old version was never pruned")
}

func TestVersionsKeptByEveryReplaceAndDelete(t *testing.T) {
	ts := startServer(t, testConfig(t))
	c := dial(t, ts.Addr, "alice")

	verStore(t, c, "/dele.txt", "deleted content")
	if err := c.Delete("/dele.txt"); err != nil {
		t.Fatal(err)
	}
	verStore(t, c, "/target.txt", "renamed over")
	verStore(t, c, "/source.txt", "source")
	if err := c.Rename("/source.txt", "/target.txt"); err != nil {
		t.Fatal(err)
	}
	verStore(t, c, "/log.txt", "line 1\n")
	if err := c.Append("/log.txt", strings.NewReader("line 2\n")); err != nil {
		t.Fatal(err)
	}
	c.MakeDir("/tree")
	c.MakeDir("/tree/sub")
	verStore(t, c, "/tree/a.txt", "tree a")
	verStore(t, c, "/tree/sub/b.txt", "tree b")
	if err := c.RemoveDir("/tree"); err != nil {
		t.Fatalf("RMD of a tree: %v", err)
	}
	if err := c.ChangeDir("/tree"); replyCode(err) != 550 {
		t.Fatalf("CWD to the removed tree = %v, want 550", err)
	}

	for p, want := range map[string]string{
		"/dele.txt":       "deleted content",
		"/target.txt":     "renamed over",
		"/tree/a.txt":     "tree a",
		"/tree/sub/b.txt": "tree b",
	} {
		if got := verContents(t, c, p); !slices.Equal(got, []string{want}) {
			t.Errorf("versions of %s = %q, want [%q]", p, got, want)
		}
	}
	// APPE appends in place: what was there is still the file's beginning,
	// so it keeps no version.
	if got := verNames(t, c, "/log.txt"); len(got) != 0 {
		t.Errorf("versions of the appended file: %v", got)
	}
	// A rename to a free name replaces nothing and keeps nothing.
	if got := verNames(t, c, "/source.txt"); len(got) != 0 {
		t.Errorf("versions of the rename source: %v", got)
	}
}

func TestVersionsViewRefusesWrites(t *testing.T) {
	ts := startServer(t, testConfig(t))
	fc := dial(t, ts.Addr, "alice")
	verStore(t, fc, "/a.txt", "old")
	verStore(t, fc, "/a.txt", "new")
	names := verNames(t, fc, "/a.txt")
	if len(names) != 1 {
		t.Fatalf("versions %v", names)
	}
	v := "/.versions/a.txt/" + names[0]

	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	for _, line := range []string{
		"STOR " + v, "STOR /.versions/a.txt/new", "STOR /.versions", "STOR /.versions/x",
		"APPE " + v, "APPE /.versions/x",
		"STOU /.versions", "STOU /.versions/a.txt",
		"DELE " + v, "DELE /.versions/a.txt",
		"RMD /.versions/a.txt", "RMD /.versions",
		"MKD /.versions/x", "MKD /.versions", "MKD /.versions/a.txt/d",
		"RNFR " + v, "RNFR /.versions/a.txt", "RNFR /.versions",
		"MFMT 20200101000000 " + v, "MFMT 20200101000000 /.versions",
	} {
		if code, msg := c.cmd("%s", line); code != 550 {
			t.Errorf("%s: %d %s, want 550", line, code, msg)
		}
	}
	for _, to := range []string{v, "/.versions/new", "/.versions"} {
		c.must(350, "RNFR /a.txt")
		if code, msg := c.cmd("RNTO %s", to); code != 550 {
			t.Errorf("RNTO %s: %d %s, want 550", to, code, msg)
		}
	}
	// Relative to a current directory inside the view, too.
	c.must(250, "CWD /.versions/a.txt")
	for _, line := range []string{"STOR " + names[0], "DELE " + names[0], "MKD x", "RMD ."} {
		if code, msg := c.cmd("%s", line); code != 550 {
			t.Errorf("in /.versions/a.txt: %s: %d %s, want 550", line, code, msg)
		}
	}
	c.must(250, "CWD /")
	// The name itself, in any letter case, cannot be made in the home.
	for _, line := range []string{"MKD /.VERSIONS", "STOR /.Versions", "MKD /.Versions/x"} {
		if code, msg := c.cmd("%s", line); code != 553 {
			t.Errorf("%s: %d %s, want 553", line, code, msg)
		}
	}
	c.must(350, "RNFR /a.txt")
	c.must(553, "RNTO /.Versions")

	if got := verContents(t, fc, "/a.txt"); !slices.Equal(got, []string{"old"}) {
		t.Fatalf("versions changed by refused writes: %q", got)
	}
	if cur, _ := verRetr(t, fc, "/a.txt"); cur != "new" {
		t.Fatalf("current file changed: %q", cur)
	}
}

func TestVersionsHiddenButReachable(t *testing.T) {
	ts := startServer(t, testConfig(t))
	fc := dial(t, ts.Addr, "alice")
	fc.MakeDir("/docs")
	verStore(t, fc, "/docs/a.txt", "first")
	verStore(t, fc, "/docs/a.txt", "second")
	verStore(t, fc, "/docs/a.txt", "third")

	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	for _, verb := range []string{"LIST", "NLST", "MLSD", "LIST -a", "STAT"} {
		var listing string
		if verb == "STAT" {
			_, listing = c.cmd("STAT /")
		} else {
			listing = c.rawData(verb + " /")
		}
		if strings.Contains(listing, ".versions") {
			t.Errorf("%s / shows .versions:\n%s", verb, listing)
		}
		if !strings.Contains(listing, "docs") {
			t.Errorf("%s / lacks docs:\n%s", verb, listing)
		}
	}
	c.must(250, "CWD /.versions")
	if msg := c.must(257, "PWD"); !strings.Contains(msg, `"/.versions"`) {
		t.Errorf("PWD = %q", msg)
	}
	if l := c.rawData("LIST"); !strings.Contains(l, "docs") {
		t.Errorf("LIST in /.versions:\n%s", l)
	}
	c.must(250, "CWD docs/a.txt")
	names := strings.Fields(c.rawData("NLST"))
	if len(names) != 2 || !slices.IsSorted(names) {
		t.Fatalf("NLST of the versions = %v", names)
	}
	mlsd := c.rawData("MLSD /.versions/docs/a.txt")
	if !strings.Contains(mlsd, "perm=r;") || strings.Contains(mlsd, "perm=adfrw") {
		t.Errorf("versions are not shown read-only:\n%s", mlsd)
	}
	if l := c.rawData("LIST /.versions/docs/a.txt"); !strings.Contains(l, names[0]) || !strings.Contains(l, names[1]) {
		t.Errorf("LIST of the versions:\n%s", l)
	}
	v := "/.versions/docs/a.txt/" + names[0]
	c.must(200, "TYPE I")
	if got := c.rawData("RETR " + v); got != "first" {
		t.Errorf("RETR %s = %q", v, got)
	}
	if msg := c.must(213, "SIZE %s", v); msg != "5" {
		t.Errorf("SIZE = %q", msg)
	}
	c.must(213, "MDTM %s", v)
	c.must(250, "MLST %s", v)
	sum := sha256.Sum256([]byte("second"))
	if msg := c.must(213, "HASH /.versions/docs/a.txt/%s", names[1]); !strings.Contains(msg, hex.EncodeToString(sum[:])) {
		t.Errorf("HASH = %q", msg)
	}
	c.must(550, "RETR /.versions/docs/a.txt")
	c.must(550, "RETR /.versions/docs/missing/20200101T000000.000Z")
	c.must(550, "CWD /.versions/nothing")
}

func TestVersionsAppendOnly(t *testing.T) {
	ts := startServer(t, testConfig(t))
	k := dial(t, ts.Addr, "keeper")
	k.MakeDir("/photos")
	originals := map[string]string{}
	for i := range 5 {
		p := fmt.Sprintf("/photos/img%d.jpg", i)
		originals[p] = fmt.Sprintf("original photo %d", i)
		verStore(t, k, p, originals[p])
	}
	verStore(t, k, "/notes.txt", "my notes")
	originals["/notes.txt"] = "my notes"

	// A stolen password: the thief overwrites everything with garbage, twice,
	// appends to it, and tries every destructive command.
	thief := dialCtrl(t, ts.Addr, "")
	thief.login("keeper")
	for p := range originals {
		verStore(t, k, p, "garbage")
		verStore(t, k, p, "more garbage")
		if err := k.Append(p, strings.NewReader("!")); err != nil {
			t.Fatalf("APPE %s: %v", p, err)
		}
		thief.must(550, "DELE %s", p)
		thief.must(350, "RNFR /notes.txt")
		if p != "/notes.txt" {
			thief.must(550, "RNTO %s", p)
		}
	}
	thief.must(550, "RMD /photos")
	thief.must(257, "MKD /empty")
	thief.must(550, "RMD /empty")
	// Renaming to a free name destroys nothing and is allowed.
	thief.must(350, "RNFR /empty")
	thief.must(250, "RNTO /empty2")
	for _, line := range []string{"DELE /.versions/notes.txt", "RMD /.versions", "STOR /.versions/notes.txt"} {
		thief.must(550, "%s", line)
	}

	for p, want := range originals {
		got := verContents(t, k, p)
		// Two overwrites, two versions; the APPE kept none.
		if len(got) != 2 || got[0] != want {
			t.Errorf("versions of %s = %q, want the original %q first", p, got, want)
		}
		if cur, _ := verRetr(t, k, p); cur != "more garbage!" {
			t.Errorf("current %s = %q", p, cur)
		}
	}
}

func TestVersionsDisabled(t *testing.T) {
	cfg := testConfig(t)
	cfg.Versions.Keep = 0
	ts := startServer(t, cfg)
	c := dial(t, ts.Addr, "alice")
	verStore(t, c, "/a.txt", "one")
	verStore(t, c, "/a.txt", "two")
	if err := c.Delete("/a.txt"); err != nil {
		t.Fatal(err)
	}
	if names, err := c.NameList("/.versions"); err != nil || len(names) != 0 {
		t.Fatalf("NLST /.versions = %v, %v; want an empty directory", names, err)
	}
	if got := verNames(t, c, "/a.txt"); len(got) != 0 {
		t.Fatalf("versions kept although disabled: %v", got)
	}
	// Without versions RMD is RFC 959's: the directory must be empty.
	c.MakeDir("/d")
	verStore(t, c, "/d/f", "f")
	if err := c.RemoveDir("/d"); replyCode(err) != 550 {
		t.Fatalf("RMD of a non-empty directory = %v, want 550", err)
	}
	if err := c.Stor("/.versions/x", strings.NewReader("x")); replyCode(err) != 550 {
		t.Fatalf("STOR into /.versions = %v, want 550", err)
	}
	// Nothing would keep a replaced file, so an append-only user may add
	// to files but not replace them.
	k := dial(t, ts.Addr, "keeper")
	verStore(t, k, "/k.txt", "kept")
	if err := k.Stor("/k.txt", strings.NewReader("gone?")); replyCode(err) != 550 {
		t.Fatalf("append-only STOR over a file without versions = %v, want 550", err)
	}
	if err := k.Append("/k.txt", strings.NewReader("+")); err != nil {
		t.Fatal(err)
	}
	if got, _ := verRetr(t, k, "/k.txt"); got != "kept+" {
		t.Fatalf("k.txt = %q", got)
	}
}

func TestVersionsFollowTheHome(t *testing.T) {
	ts := startServer(t, testConfig(t))
	alice := dial(t, ts.Addr, "alice")
	verStore(t, alice, "/secret.txt", "alice's old secret")
	verStore(t, alice, "/secret.txt", "alice's new secret")
	names := verNames(t, alice, "/secret.txt")
	if len(names) != 1 {
		t.Fatalf("versions %v", names)
	}
	v := "/.versions/secret.txt/" + names[0]

	// bob has another home: alice's versions do not exist for him.
	bob := dial(t, ts.Addr, "bob")
	if got, err := bob.NameList("/.versions"); err != nil || len(got) != 0 {
		t.Fatalf("bob's /.versions = %v, %v; want empty", got, err)
	}
	if got, err := verRetr(t, bob, v); replyCode(err) != 550 {
		t.Fatalf("bob RETR %s = %q, %v; want 550", v, got, err)
	}
	for _, p := range []string{"/.versions/../alice" + v, "/.versions/../../alice/secret.txt/" + names[0]} {
		if got, err := verRetr(t, bob, p); err == nil && strings.Contains(got, "alice") {
			t.Fatalf("bob read alice's version through %s", p)
		}
	}
	// reader shares alice's home, so it sees (and may read) the same versions.
	reader := dial(t, ts.Addr, "reader")
	if got := verNames(t, reader, "/secret.txt"); !slices.Equal(got, names) {
		t.Fatalf("reader sees %v, alice %v", got, names)
	}
	if got, err := verRetr(t, reader, v); err != nil || got != "alice's old secret" {
		t.Fatalf("reader RETR %s = %q, %v", v, got, err)
	}
	if err := reader.Delete(v); replyCode(err) != 550 {
		t.Fatalf("reader DELE %s = %v", v, err)
	}
}

// TestVersionsShadowRealEntry: a real .versions a local user left in a home
// is hidden from "/" and shadowed by the virtual directory.
func TestVersionsShadowRealEntry(t *testing.T) {
	ts := startServer(t, testConfig(t))
	c := dial(t, ts.Addr, "alice")
	verStore(t, c, "/f", "x")
	real := filepath.Join(ts.Root, "alice", ".versions")
	if err := os.MkdirAll(filepath.Join(real, "realfile"), 0o755); err != nil {
		t.Fatal(err)
	}
	if names, err := c.NameList("/"); err != nil || slices.Contains(names, ".versions") {
		t.Fatalf("NLST / = %v, %v", names, err)
	}
	if names, err := c.NameList("/.versions"); err != nil || slices.Contains(names, "realfile") {
		t.Fatalf("NLST /.versions = %v, %v; want the version view", names, err)
	}
	if err := c.RemoveDir("/.versions/realfile"); replyCode(err) != 550 {
		t.Fatalf("RMD through the view = %v", err)
	}
	if _, err := os.Stat(filepath.Join(real, "realfile")); err != nil {
		t.Fatalf("real entry touched: %v", err)
	}
}

// An append-only account that overwrites a file more often than
// versions.keep must not push the original out of the store: versions it
// creates are protected from count trimming (only max_age prunes them),
// while a full account's versions are trimmed to keep as usual.
func TestVersionsAppendOnlyCannotFlushOriginal(t *testing.T) {
	cfg := testConfig(t)
	cfg.Versions.Keep = 3
	ts := startServer(t, cfg)
	k := dial(t, ts.Addr, "keeper")
	verStore(t, k, "/doc.txt", "the original")
	for i := range 8 {
		verStore(t, k, "/doc.txt", fmt.Sprintf("garbage %d", i))
	}
	got := verContents(t, k, "/doc.txt")
	if len(got) != 8 || got[0] != "the original" {
		t.Fatalf("append-only versions of doc.txt = %q, want all 8 with the original first", got)
	}
	// Age pruning still applies to protected versions.
	if n, err := ts.versions.Prune(context.Background(), time.Now().Add(cfg.Versions.MaxAge.D()+time.Hour)); err != nil || n != 8 {
		t.Fatalf("prune past max_age removed %d (%v), want all 8", n, err)
	}

	a := dial(t, ts.Addr, "alice")
	for i := range 6 {
		verStore(t, a, "/a.txt", fmt.Sprintf("v%d", i))
	}
	if got := verContents(t, a, "/a.txt"); len(got) != 3 || got[0] != "v2" {
		t.Fatalf("full account's versions of a.txt = %q, want the newest 3 (v2, v3, v4)", got)
	}
}
