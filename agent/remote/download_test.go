package remote

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDownloadModeAndMTime(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr)
	ctx := testCtx(t)
	mtime := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	writeFile(t, filepath.Join(ts.Home(), "d", "f"), []byte("content"), mtime)
	dst := filepath.Join(t.TempDir(), "new", "f")
	if _, err := p.Download(ctx, "/d/f", dst, nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 || !fi.ModTime().Equal(mtime) {
		t.Errorf("new file: mode %v mtime %v, want 0644 and %v", fi.Mode().Perm(), fi.ModTime(), mtime)
	}
	// A replaced file keeps its mode.
	if err := os.Chmod(dst, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Download(ctx, "/d/f", dst, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("replaced file: %v, %v; want mode 0640", fi.Mode(), err)
	}
}

func TestDownloadCheckedRefusal(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr)
	ctx := testCtx(t)
	writeFile(t, filepath.Join(ts.Home(), "f"), []byte("remote"), time.Time{})
	dir := t.TempDir()
	dst := filepath.Join(dir, "f")
	writeFile(t, dst, []byte("local edit"), time.Time{})
	refuse := errors.New("changed locally")
	called := false
	_, err := p.DownloadChecked(ctx, "/f", dst, nil, func(r DownloadResult) error {
		called = true
		// The temporary is complete when ready runs.
		if r.Size != int64(len("remote")) {
			t.Errorf("ready saw size %d", r.Size)
		}
		return refuse
	})
	if !called || !errors.Is(err, refuse) {
		t.Fatalf("DownloadChecked = %v (ready called %v), want the refusal", err, called)
	}
	if b, _ := os.ReadFile(dst); string(b) != "local edit" {
		t.Errorf("local file now %q, want it untouched", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries left in the directory, want only the file (no temporary)", len(ents))
	}
}
