//go:build linux

package ftpfs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/syncagent/syncagent/internal/testenv"
)

// tinyDisk mounts a 64 KiB tmpfs and returns its path. It needs root (CI
// runs as root on Linux) and skips otherwise.
func tinyDisk(t *testing.T) string {
	t.Helper()
	testenv.NeedRoot(t, "mounts a tiny tmpfs to fill the disk")
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700"); err != nil {
		testenv.Missing(t, "cannot mount a tmpfs (no CAP_SYS_ADMIN in this container?): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

func TestNoSpace(t *testing.T) {
	root := tinyDisk(t)
	f, err := Open(root, "alice", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tmpDir := filepath.Join(root, ".syncserver", "tmp")
	old := bytes.Repeat([]byte("o"), 24<<10)
	if err := os.WriteFile(filepath.Join(root, "alice", "old"), old, 0o644); err != nil {
		t.Fatal(err)
	}

	// Writing more than the disk holds fails with ErrNoSpace once mapped.
	u, err := f.Create("/old", CreateTruncate, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, werr := io.Copy(u.File(), io.LimitReader(zeros{}, 128<<10))
	if !errors.Is(werr, syscall.ENOSPC) || !errors.Is(MapError(werr), ErrNoSpace) {
		t.Fatalf("write to a full disk: %v (mapped %v), want ENOSPC / ErrNoSpace", werr, MapError(werr))
	}
	if err := u.Abort(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "alice", "old")); !bytes.Equal(got, old) {
		t.Errorf("a failed upload changed the previous file")
	}

	// Appending stages only the new bytes; with the disk nearly full the
	// staging fails, and the file is untouched.
	fill, err := f.Create("/fill", CreateTruncate, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fill.File().Write(bytes.Repeat([]byte("f"), 28<<10)); err != nil {
		t.Fatal(err)
	}
	if err := fill.Commit(); err != nil {
		t.Fatal(err)
	}
	app, err := f.Create("/old", CreateAppend, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(app, io.LimitReader(zeros{}, 32<<10)); !errors.Is(MapError(err), ErrNoSpace) {
		t.Errorf("append on a full disk = %v, want ErrNoSpace", err)
	}
	app.Abort()
	if got, _ := os.ReadFile(filepath.Join(root, "alice", "old")); !bytes.Equal(got, old) {
		t.Errorf("a failed append changed the file")
	}
	if ents, _ := os.ReadDir(tmpDir); len(ents) != 0 {
		t.Errorf("%d temp files left after ENOSPC", len(ents))
	}
	if fi, err := os.Stat(filepath.Join(root, "alice", "old")); err != nil || fi.Size() != int64(len(old)) {
		t.Errorf("previous file after ENOSPC: %v, %v", fi, err)
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
