package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/testproxy"
)

func TestRoundTrip(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr)
	ctx := testCtx(t)
	mtime := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	cases := []struct {
		name   string
		remote string
		data   []byte
	}{
		{"empty", "/empty.txt", nil},
		{"20MB", "/big/blob.bin", randomBytes(t, 20<<20)},
		{"unicode with spaces", "/dïr with space/ñame 日本 é.txt", []byte("hello, wörld\n")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "src")
			writeFile(t, src, c.data, mtime)
			var last int64
			up, err := p.Upload(ctx, src, c.remote, func(n int64) { last = n })
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			want := sha256.Sum256(c.data)
			if up.SHA256 != want || up.Verified != VerifiedHash || up.Size != int64(len(c.data)) || last != int64(len(c.data)) {
				t.Errorf("upload result %+v (progress %d), want sha %x size %d verified by hash", up, last, want, len(c.data))
			}
			if !up.ModTime.Equal(mtime) || up.ID == "" {
				t.Errorf("remote entry %+v: want mtime %v and an ID", up.Entry, mtime)
			}
			onDisk, err := os.ReadFile(filepath.Join(ts.Home(), filepath.FromSlash(c.remote)))
			if err != nil || !bytes.Equal(onDisk, c.data) {
				t.Fatalf("server file: %v (equal=%v)", err, bytes.Equal(onDisk, c.data))
			}
			sum, err := p.Hash(ctx, c.remote)
			if err != nil || sum != want {
				t.Errorf("Hash = %x, %v; want %x", sum, err, want)
			}

			dst := filepath.Join(t.TempDir(), "sub", "dst")
			down, err := p.Download(ctx, c.remote, dst, nil)
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			got, err := os.ReadFile(dst)
			if err != nil || !bytes.Equal(got, c.data) {
				t.Fatalf("downloaded file: %v (equal=%v)", err, bytes.Equal(got, c.data))
			}
			fi, _ := os.Stat(dst)
			if down.SHA256 != want || down.Verified != VerifiedHash || !fi.ModTime().Equal(mtime) {
				t.Errorf("download result %+v, local mtime %v", down, fi.ModTime())
			}
			assertNoTemps(t, ts.Home())
			assertNoTemps(t, filepath.Dir(dst))
		})
	}
}

// assertNoTemps fails if any of our temporaries is left under dir.
func assertNoTemps(t testing.TB, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && IsTemp(d.Name()) {
			t.Errorf("temporary left behind: %s", p)
		}
		return nil
	})
}

// TestVerifyBySize runs against a proxy that removes HASH from FEAT, so the
// client must fall back to comparing sizes.
func TestVerifyBySize(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	px := testproxy.New(t, ts.Addr, testproxy.DropFeature("HASH"))
	p := newPool(t, px.Addr())
	ctx := testCtx(t)
	caps, err := p.Caps(ctx)
	if err != nil || caps.HASH || !caps.MLSD || !caps.REST || !caps.MFMT {
		t.Fatalf("caps = %+v, %v", caps, err)
	}
	src := filepath.Join(t.TempDir(), "f")
	data := randomBytes(t, 100_000)
	writeFile(t, src, data, time.Time{})
	up, err := p.Upload(ctx, src, "/a/f", nil)
	if err != nil || up.Verified != VerifiedSize {
		t.Fatalf("upload = %+v, %v; want verified by size", up, err)
	}
	if _, err := p.Hash(ctx, "/a/f"); !errors.Is(err, ErrNotSupported) || IsTransient(err) {
		t.Errorf("Hash without HASH: %v, want ErrNotSupported", err)
	}
	dst := filepath.Join(t.TempDir(), "f")
	down, err := p.Download(ctx, "/a/f", dst, nil)
	if err != nil || down.Verified != VerifiedSize || down.SHA256 != sha256.Sum256(data) {
		t.Fatalf("download = %+v, %v", down, err)
	}
}

// TestUploadEntryWithoutMLST: against a server with neither HASH nor MLST
// (vsftpd's kind), the entry an upload returns is built from the size it
// verified and an MDTM, and must describe the file on the server.
func TestUploadEntryWithoutMLST(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	px := testproxy.New(t, ts.Addr, func(line string) (string, bool) {
		up := strings.ToUpper(line)
		return line, !strings.HasPrefix(up, " HASH") && !strings.HasPrefix(up, " MLST")
	})
	p := newPool(t, px.Addr())
	ctx := testCtx(t)
	if caps, err := p.Caps(ctx); err != nil || caps.HASH || caps.MLSD || !caps.SIZE || !caps.MDTM {
		t.Fatalf("caps = %+v, %v", caps, err)
	}
	src := filepath.Join(t.TempDir(), "f")
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	writeFile(t, src, randomBytes(t, 70_000), mtime)
	up, err := p.Upload(ctx, src, "/a/f", nil)
	if err != nil || up.Verified != VerifiedSize {
		t.Fatalf("upload = %+v, %v; want verified by size", up, err)
	}
	fi, err := os.Stat(filepath.Join(ts.Home(), "a", "f"))
	if err != nil {
		t.Fatal(err)
	}
	if up.Name != "f" || up.Size != fi.Size() || !up.ModTime.Equal(fi.ModTime().Truncate(time.Second)) || !up.ModTime.Equal(mtime) {
		t.Errorf("entry = %+v; the server has size %d, mtime %v (sent %v)", up.Entry, fi.Size(), fi.ModTime(), mtime)
	}
}

// TestListWithoutMLSDAsksMDTMForRecentFiles: LIST gives times to the
// minute (or only the date), so List asks MDTM for the files listed in the
// last RecentListed and for those dated ahead, at most RecentListedMax a
// listing, and keeps LIST's time, with its precision, for the rest.
func TestListWithoutMLSDAsksMDTMForRecentFiles(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	px := testproxy.New(t, ts.Addr, func(line string) (string, bool) {
		return line, !strings.HasPrefix(strings.ToUpper(line), " MLST")
	})
	p := newPool(t, px.Addr())
	ctx := testCtx(t)
	now := time.Now().Truncate(time.Second)
	old, ahead := now.Add(-time.Hour), now.Add(48*time.Hour)
	listed := func(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) } // as LIST shows it
	writeFile(t, filepath.Join(ts.Home(), "few", "old"), []byte("o"), old)
	writeFile(t, filepath.Join(ts.Home(), "few", "new"), []byte("n"), now)
	writeFile(t, filepath.Join(ts.Home(), "few", "ahead"), []byte("a"), ahead)
	for i := range RecentListedMax + 8 {
		writeFile(t, filepath.Join(ts.Home(), "many", fmt.Sprintf("f%02d", i)), []byte("m"), now)
	}
	few, err := p.List(ctx, "/few")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Entry{
		"old":   {Name: "old", Size: 1, ModTime: listed(old), TimePrecision: listPrecision(listed(old))},
		"new":   {Name: "new", Size: 1, ModTime: now.UTC()},
		"ahead": {Name: "ahead", Size: 1, ModTime: ahead.UTC()},
	}
	if len(few) != len(want) {
		t.Fatalf("listed %+v", few)
	}
	for _, e := range few {
		if w := want[e.Name]; e != w {
			t.Errorf("%s: %+v, want %+v", e.Name, e, w)
		}
	}
	many, err := p.List(ctx, "/many")
	if err != nil {
		t.Fatal(err)
	}
	exact := 0
	for _, e := range many {
		switch {
		case e.TimePrecision == 0 && e.ModTime.Equal(now):
			exact++
		case e.TimePrecision != listPrecision(listed(now)) || !e.ModTime.Equal(listed(now)):
			t.Errorf("%s: %+v", e.Name, e)
		}
	}
	if len(many) != RecentListedMax+8 || exact != RecentListedMax {
		t.Errorf("%d entries, %d with MDTM's time; want %d and %d", len(many), exact, RecentListedMax+8, RecentListedMax)
	}
}

func TestWalk(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr, func(c *Config) { c.Connections = 3 })
	ctx := testCtx(t)
	files := []string{"a.txt", "d1/b.txt", "d1/d2/c.txt", "d1/d2/d3/e.txt", "d4/f g.txt", "skipme/x.txt", "d1/.syncagent-abc"}
	for i, f := range files {
		writeFile(t, filepath.Join(ts.Home(), "root", f), bytes.Repeat([]byte("x"), i), time.Time{})
	}
	if err := os.MkdirAll(filepath.Join(ts.Home(), "root", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	asked := 0
	got, err := p.Walk(ctx, "/root", func(rel string, e Entry) bool {
		mu.Lock()
		asked++
		mu.Unlock()
		return rel == "skipme"
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"a.txt", "d1", "d1/b.txt", "d1/d2", "d1/d2/c.txt", "d1/d2/d3", "d1/d2/d3/e.txt", "d4", "d4/f g.txt", "empty"}
	if !slices.Equal(keys, want) {
		t.Errorf("walk keys\n got %q\nwant %q", keys, want)
	}
	if e := got["d1/d2/c.txt"]; e.Dir || e.Size != 2 || e.Name != "c.txt" || e.ID == "" || e.ModTime.IsZero() {
		t.Errorf("entry c.txt = %+v", e)
	}
	if !got["d1/d2"].Dir {
		t.Errorf("d1/d2 not a dir: %+v", got["d1/d2"])
	}
	if _, err := p.Walk(ctx, "/missing", nil); err == nil || IsTransient(err) {
		t.Errorf("walk of a missing root: %v, want a permanent error", err)
	}
}

// TestWalkUnreadableSubdir checks that one directory that cannot be listed
// fails the whole walk instead of returning a partial tree. A proxy turns
// the server's third "150" (the third MLSD) into a 550; it hides SITE TREE
// (see TestTreeWalkUnreadableSubdir for the walk through SITE TREE).
func TestWalkUnreadableSubdir(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	var mu sync.Mutex
	opened := 0
	px := testproxy.New(t, ts.Addr, func(line string) (string, bool) {
		if line == " SITE TREE\r\n" {
			return " SITE BATCH\r\n", true
		}
		if !strings.HasPrefix(line, "150 ") {
			return line, true
		}
		mu.Lock()
		defer mu.Unlock()
		if opened++; opened == 3 {
			return "550 Permission denied.\r\n", true
		}
		return line, true
	})
	p := newPool(t, px.Addr(), func(c *Config) { c.Connections = 1 })
	for _, f := range []string{"a/1", "a/b/2", "a/b/c/3", "a/b/c/d/4"} {
		writeFile(t, filepath.Join(ts.Home(), "r", f), []byte("x"), time.Time{})
	}
	m, err := p.Walk(testCtx(t), "/r", nil)
	if err == nil || ReplyCode(err) != 550 {
		t.Fatalf("walk = %v, %v; want the 550 of the unreadable directory", m, err)
	}
}

func TestOps(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr)
	ctx := testCtx(t)
	if err := p.MkdirAll(ctx, "/x/y/z"); err != nil {
		t.Fatal(err)
	}
	if err := p.MkdirAll(ctx, "/x/y/z"); err != nil {
		t.Fatalf("second MkdirAll: %v", err)
	}
	writeFile(t, filepath.Join(ts.Home(), "x", "y", "f"), []byte("data"), time.Time{})
	if err := p.Rename(ctx, "/x/y/f", "/new/dir/g"); err != nil {
		t.Fatal(err)
	}
	if e, err := p.Stat(ctx, "/new/dir/g"); err != nil || e.Size != 4 || e.Name != "g" {
		t.Fatalf("stat after rename = %+v, %v", e, err)
	}
	if err := p.Delete(ctx, "/new/dir/g"); err != nil {
		t.Fatal(err)
	}
	err := p.Delete(ctx, "/new/dir/g")
	if ReplyCode(err) != 550 || IsTransient(err) {
		t.Errorf("delete missing = %v, want a permanent 550", err)
	}
	if err := p.RemoveDir(ctx, "/x/y/z", false); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(ts.Home(), "x", "y", "z", "deep"), []byte("data"), time.Time{})
	if err := p.RemoveDir(ctx, "/x", true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(ts.Home(), "x")); !os.IsNotExist(err) {
		t.Errorf("/x still there: %v", err)
	}
	if _, err := p.List(ctx, "relative"); !errors.Is(err, ErrBadPath) {
		t.Errorf("relative path: %v", err)
	}
}

func TestSourceChangedDuringUpload(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr)
	src := filepath.Join(t.TempDir(), "f")
	writeFile(t, src, randomBytes(t, 1<<20), time.Now().Add(-time.Hour))
	touched := false
	_, err := p.Upload(testCtx(t), src, "/f", func(int64) {
		if !touched {
			touched = true
			f, err := os.OpenFile(src, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			f.Write([]byte("more"))
			f.Close()
		}
	})
	if !errors.Is(err, ErrSourceChanged) || !IsTransient(err) {
		t.Fatalf("upload of a changing file: %v, want ErrSourceChanged", err)
	}
	if _, err := os.Stat(filepath.Join(ts.Home(), "f")); !os.IsNotExist(err) {
		t.Errorf("torn upload put in place: %v", err)
	}
	assertNoTemps(t, ts.Home())
	if _, err := p.Upload(testCtx(t), src, "/f", nil); err != nil {
		t.Fatalf("upload after the change: %v", err)
	}
}

// TestInterruptedUpload kills every connection mid-upload: the call fails
// with a transient error, the next one succeeds, and nothing is left over.
func TestInterruptedUpload(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	px := testproxy.New(t, ts.Addr, nil)
	p := newPool(t, px.Addr())
	ctx := testCtx(t)
	data := randomBytes(t, 4<<20)
	src := filepath.Join(t.TempDir(), "f")
	writeFile(t, src, data, time.Time{})
	writeFile(t, filepath.Join(ts.Home(), "d", "f"), []byte("old version"), time.Time{})

	px.CutAfter(1 << 20)
	_, err := p.Upload(ctx, src, "/d/f", nil)
	if err == nil || !IsTransient(err) {
		t.Fatalf("interrupted upload: %v, want a transient error", err)
	}
	if got, _ := os.ReadFile(filepath.Join(ts.Home(), "d", "f")); string(got) != "old version" {
		t.Fatalf("previous version damaged: %d bytes", len(got))
	}
	up, err := p.Upload(ctx, src, "/d/f", nil)
	if err != nil {
		t.Fatalf("upload after interruption: %v", err)
	}
	// syncserver discards aborted uploads, so nothing could be resumed.
	if up.Resumed != 0 || up.Verified != VerifiedHash {
		t.Errorf("result %+v", up)
	}
	got, _ := os.ReadFile(filepath.Join(ts.Home(), "d", "f"))
	if !bytes.Equal(got, data) {
		t.Fatalf("remote file has %d bytes, want the %d uploaded", len(got), len(data))
	}
	assertNoTemps(t, ts.Home())
}

// TestResumeWithREST continues an upload whose partial temporary survived
// (as on servers that keep aborted uploads): only the rest is sent.
func TestResumeWithREST(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr)
	ctx := testCtx(t)
	data := randomBytes(t, 300_000)
	src := filepath.Join(t.TempDir(), "f")
	writeFile(t, src, data, time.Time{})
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	temp := path.Join("/d", TempPrefix+"resume")
	writeFile(t, filepath.Join(ts.Home(), "d", TempPrefix+"resume"), data[:123_456], time.Time{})
	p.keepResume("/d/f", resumeState{temp: temp, size: fi.Size(), mtime: fi.ModTime(), src: fi})

	var first int64 = -1
	up, err := p.Upload(ctx, src, "/d/f", func(n int64) {
		if first < 0 {
			first = n
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Resumed != 123_456 || first <= 123_456 || up.SHA256 != sha256.Sum256(data) {
		t.Errorf("result %+v, first progress %d", up, first)
	}
	got, _ := os.ReadFile(filepath.Join(ts.Home(), "d", "f"))
	if !bytes.Equal(got, data) {
		t.Fatalf("resumed file differs (%d bytes)", len(got))
	}
	assertNoTemps(t, ts.Home())
}

// TestHungServer: a server that stops answering without closing fails the
// operation within OpTimeout, and the pool replaces the connection.
func TestHungServer(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	px := testproxy.New(t, ts.Addr, nil)
	p := newPool(t, px.Addr(), func(c *Config) { c.OpTimeout = 300 * time.Millisecond; c.Connections = 1 })
	ctx := testCtx(t)
	if _, err := p.List(ctx, "/"); err != nil {
		t.Fatal(err)
	}
	before := px.Accepted()
	px.Stall(true)
	_, err := p.List(ctx, "/")
	if err == nil || !IsTransient(err) {
		t.Fatalf("list on a hung server: %v, want a transient error", err)
	}
	px.Stall(false)
	if _, err := p.List(ctx, "/"); err != nil {
		t.Fatalf("list after the server recovered: %v", err)
	}
	if px.Accepted() == before {
		t.Error("the hung connection was reused instead of replaced")
	}
}

func TestCancelledContext(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	px := testproxy.New(t, ts.Addr, nil)
	p := newPool(t, px.Addr(), func(c *Config) { c.Connections = 1 })
	px.Stall(true)
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() {
		for px.Accepted() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err := p.List(ctx, "/")
	if !errors.Is(err, context.Canceled) || IsTransient(err) {
		t.Fatalf("list with a cancelled context: %v", err)
	}
	px.Stall(false)
	if _, err := p.List(testCtx(t), "/"); err != nil {
		t.Fatalf("list after cancel: %v", err)
	}
}

func TestCleanTemps(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr)
	old := time.Now().Add(-48 * time.Hour)
	writeFile(t, filepath.Join(ts.Home(), "c", TempPrefix+"old1"), []byte("x"), old)
	writeFile(t, filepath.Join(ts.Home(), "c", "deep", TempPrefix+"old2"), []byte("x"), old)
	writeFile(t, filepath.Join(ts.Home(), "c", TempPrefix+"fresh"), []byte("x"), time.Now())
	writeFile(t, filepath.Join(ts.Home(), "c", "keep.txt"), []byte("x"), old)
	n, err := p.CleanTemps(testCtx(t), "/c", 24*time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("CleanTemps = %d, %v; want 2", n, err)
	}
	var left []string
	filepath.WalkDir(filepath.Join(ts.Home(), "c"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, d.Name())
		}
		return nil
	})
	slices.Sort(left)
	if want := []string{TempPrefix + "fresh", "keep.txt"}; !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
}

func TestNewPoolRejectsBadConfig(t *testing.T) {
	for _, c := range []Config{
		{Address: "nohost", User: "a"},
		{Address: "127.0.0.1:21"},
		{Address: "127.0.0.1:21", User: "a", TLS: "sometimes"},
		{Address: "127.0.0.1:21", User: "a", TLS: "explicit", ClientCert: "x"},
		{Address: "127.0.0.1:21", User: "a", TLS: "explicit", CAFile: "/does/not/exist"},
	} {
		if _, err := NewPool(c, nil); err == nil {
			t.Errorf("NewPool(%+v) succeeded", c)
		}
	}
}

func TestBadLogin(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr, func(c *Config) { c.Password = "wrong" })
	_, err := p.List(testCtx(t), "/")
	if ReplyCode(err) != 530 || IsTransient(err) {
		t.Fatalf("bad login: %v, want a permanent 530", err)
	}
	if !strings.Contains(err.Error(), "connect") {
		t.Errorf("error %q does not say it failed to connect", err)
	}
}
