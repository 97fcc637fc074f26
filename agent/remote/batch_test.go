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
)

// TestUploadBatch sends a mix of files in one SITE BATCH to the real server:
// good files of several sizes (empty, unicode names, replacing an existing
// file), a file that cannot be read, a path the server refuses and a file
// in a directory that does not exist. The good ones must land with their
// content, their modification time and their facts, the others fail alone.
func TestUploadBatch(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr)
	ctx := testCtx(t)
	if ok, err := p.CanBatch(ctx); err != nil || !ok {
		t.Fatalf("CanBatch = %v, %v; syncserver offers SITE BATCH", ok, err)
	}
	if err := os.MkdirAll(filepath.Join(ts.Home(), "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ts.Home(), "d", "old.txt"), []byte("old content"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mtime := time.Date(2024, 2, 3, 4, 5, 6, 789e6, time.UTC)
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
		{"/.versions/x", []byte("refused"), false},
		{"/missing/dir/f", []byte("no parent"), false},
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
		onDisk, err := os.ReadFile(filepath.Join(ts.Home(), filepath.FromSlash(f.remote)))
		if err != nil || !bytes.Equal(onDisk, f.data) {
			t.Errorf("%s on the server: %v (equal %v)", f.remote, err, bytes.Equal(onDisk, f.data))
		}
		if r.SHA256 != sha256.Sum256(f.data) || r.Verified != VerifiedHash || r.Size != int64(len(f.data)) ||
			!r.ModTime.Equal(mtime) || r.ID == "" || r.Name != filepath.Base(f.remote) {
			t.Errorf("%s: result %+v", f.remote, r)
		}
	}
	if !errors.Is(res[6].Err, os.ErrNotExist) {
		t.Errorf("unreadable file: %v, want not-exist", res[6].Err)
	}
	if code := ReplyCode(res[4].Err); code != 550 {
		t.Errorf("write to /.versions: reply %d (%v), want 550", code, res[4].Err)
	}
	assertNoTemps(t, ts.Home())
	if n := countFiles(t, filepath.Join(ts.Root, ".syncserver", "tmp")); n != 0 {
		t.Errorf("%d staged uploads left on the server", n)
	}
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
