package remote

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/testproxy"
)

// TestUploadBatch sends a mix of files in one SITE BATCH to the real server:
// good files of several sizes (empty, unicode names, replacing an existing
// file), a file that cannot be read, a path the server refuses and a file
// in a directory that does not exist. The good ones must land with their
// content, their modification time and their facts, the others fail alone.
func TestUploadBatch(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr)
	if ok, err := p.CanBatch(testCtx(t)); err != nil || !ok {
		t.Fatalf("CanBatch = %v, %v", ok, err)
	}
	uploadBatch(t, p, ts.Home(), batchSyncserver|batchSite)
	if n := countFiles(t, filepath.Join(ts.Root, ".syncserver", "tmp")); n != 0 {
		t.Errorf("%d staged uploads left on the server", n)
	}
}

// TestUploadBatchPipelined is TestUploadBatch on servers without SITE
// BATCH: syncserver hiding it, vsftpd, pure-ftpd and ProFTPD. There a
// file's missing directory is created, as Upload does.
func TestUploadBatchPipelined(t *testing.T) {
	t.Run("syncserver", func(t *testing.T) {
		ts := startServer(t, serverConfig(t))
		px := testproxy.New(t, ts.Addr, testproxy.DropFeature("SITE BATCH"))
		uploadBatch(t, newPool(t, px.Addr()), ts.Home(), batchSyncserver)
	})
	for name, start := range peerServers {
		t.Run(name, func(t *testing.T) {
			v := start(t)
			p := newPool(t, v.Addr, func(c *Config) { c.User, c.Password = v.User, v.Password })
			uploadBatch(t, p, v.Home, 0)
		})
	}
}

// What uploadBatch expects of the server.
const (
	batchSyncserver = 1 << iota // HASH, MFMT and MLST; /.versions is read-only
	batchSite                   // SITE BATCH: a missing directory fails the file
)

// uploadBatch runs TestUploadBatch's files through p, whose user's home
// directory on disk is home.
func uploadBatch(t *testing.T, p *Pool, home string, kind int) {
	t.Helper()
	ctx := testCtx(t)
	dir := t.TempDir()
	old := filepath.Join(dir, "old")
	writeFile(t, old, []byte("old content"), time.Time{})
	if _, err := p.Upload(ctx, old, "/d/old.txt", nil); err != nil { // as the user, who must own it
		t.Fatal(err)
	}
	mtime := time.Date(2024, 2, 3, 4, 5, 6, 789e6, time.UTC)
	want := mtime
	if kind&batchSite == 0 {
		want = mtime.Truncate(time.Second) // MFMT's precision
	}
	type file struct {
		remote string
		data   []byte
		ok     bool
	}
	files := []file{
		{"/d/a.txt", []byte("alpha"), true},
		{"/d/empty", nil, true},
		{"/d/ñame 日本 é.txt", randomBytes(t, 70_000), true},
		{"/d/old.txt", []byte("new content"), true},
		{"/.versions/x", []byte("refused"), kind&batchSyncserver == 0},
		{"/missing/dir/f", []byte("no parent"), kind&batchSite == 0},
		{"/d/unreadable", nil, false},
		{"/d/last", randomBytes(t, BatchMaxFile), true},
	}
	var in []BatchFile
	for i, f := range files {
		local := filepath.Join(dir, fmt.Sprint(i))
		if f.remote != "/d/unreadable" {
			writeFile(t, local, f.data, mtime)
		}
		in = append(in, BatchFile{Local: local, Remote: f.remote})
	}
	res, err := p.UploadBatch(ctx, in)
	if err != nil {
		t.Fatalf("UploadBatch: %v", err)
	}
	for i, f := range files {
		r := res[i]
		if !f.ok {
			if r.Err == nil {
				t.Errorf("%s: no error, want one", f.remote)
			}
			continue
		}
		if r.Err != nil {
			t.Errorf("%s: %v", f.remote, r.Err)
			continue
		}
		onDisk, err := os.ReadFile(filepath.Join(home, filepath.FromSlash(f.remote)))
		if err != nil || !bytes.Equal(onDisk, f.data) {
			t.Errorf("%s on the server: %v (equal %v)", f.remote, err, bytes.Equal(onDisk, f.data))
		}
		st, err := p.Stat(ctx, f.remote)
		if err != nil || r.Entry != st {
			t.Errorf("%s: result %+v, the server says %+v (%v)", f.remote, r.Entry, st, err)
		}
		if r.SHA256 != sha256.Sum256(f.data) || r.Size != int64(len(f.data)) || r.Name != filepath.Base(f.remote) {
			t.Errorf("%s: result %+v", f.remote, r)
		}
		if kind&batchSyncserver != 0 && (r.Verified != VerifiedHash || !r.ModTime.Equal(want) || r.ID == "") {
			t.Errorf("%s: result %+v, want verified by hash, the local time and an ID", f.remote, r)
		}
		if kind&batchSyncserver == 0 && r.Verified != VerifiedSize {
			t.Errorf("%s: verified by %q, want size", f.remote, r.Verified)
		}
	}
	if !errors.Is(res[6].Err, os.ErrNotExist) {
		t.Errorf("unreadable file: %v, want not-exist", res[6].Err)
	}
	if code := ReplyCode(res[4].Err); kind&batchSyncserver != 0 && code != 550 {
		t.Errorf("write to /.versions: reply %d (%v), want 550", code, res[4].Err)
	}
	assertNoTemps(t, home)
}

// TestUploadBatchSourceChanged changes a file after it was read and before
// its record ends: the record must be dropped by the server (nothing under
// its name), the others go on.
func TestUploadBatchSourceChanged(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr)
	ctx := testCtx(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, []byte("aaaa"), time.Time{})
	writeFile(t, b, []byte("bbbb"), time.Time{})
	batchAfterRead = func(local string) {
		if local == b {
			writeFile(t, b, []byte("BBBB"), time.Now().Add(time.Hour))
		}
	}
	defer func() { batchAfterRead = nil }()
	res, err := p.UploadBatch(ctx, []BatchFile{{Local: a, Remote: "/a"}, {Local: b, Remote: "/b"}})
	if err != nil {
		t.Fatalf("UploadBatch: %v", err)
	}
	if res[0].Err != nil {
		t.Errorf("/a: %v", res[0].Err)
	}
	if !errors.Is(res[1].Err, ErrSourceChanged) {
		t.Errorf("/b: %v, want ErrSourceChanged", res[1].Err)
	}
	if _, err := os.Stat(filepath.Join(ts.Home(), "b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/b on the server: %v, want none", err)
	}
	assertNoTemps(t, ts.Home())
}

// TestParseFeatBatch checks how SITE BATCH is found in FEAT.
func TestParseFeatBatch(t *testing.T) {
	caps := parseFeat(" MLST type*;size*;\n HASH SHA-256*\n SITE BATCH\n")
	if !caps.Batch {
		t.Fatalf("parseFeat did not see SITE BATCH: %+v", caps)
	}
	if parseFeat(" SITE CHMOD\n").Batch {
		t.Fatal("SITE CHMOD taken for SITE BATCH")
	}
}

func countFiles(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
