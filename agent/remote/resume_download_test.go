package remote

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDownloadResumeAfterInterruption cuts a download half-way (the
// context is cancelled from the progress callback, which closes the
// connection), then checks that the next call fetches only the rest,
// verifies the whole file and leaves no partial behind; and that a partial
// which does not match the server's file is discarded, never placed.
func TestDownloadResumeAfterInterruption(t *testing.T) {
	ts := startServer(t, serverConfig(t))
	p := newPool(t, ts.Addr)
	data := randomBytes(t, 8<<20)
	writeFile(t, filepath.Join(ts.Home(), "big.bin"), data, time.Time{})
	dir := t.TempDir()
	dst := filepath.Join(dir, "big.bin")

	ctx, cancel := context.WithCancel(testCtx(t))
	_, err := p.DownloadResume(ctx, "/big.bin", dst, func(n int64) {
		if n > 2<<20 {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("interrupted download reported success")
	}
	if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("target exists after an interrupted download: %v", err)
	}
	parts, _ := filepath.Glob(filepath.Join(dir, partPrefix+"*"))
	if len(parts) != 1 {
		t.Fatalf("partials after interruption: %v, want one", parts)
	}
	fi, _ := os.Stat(parts[0])
	if fi.Size() == 0 || fi.Size() >= int64(len(data)) {
		t.Fatalf("partial holds %d bytes, want part of %d", fi.Size(), len(data))
	}

	res, err := p.DownloadResume(testCtx(t), "/big.bin", dst, nil)
	if err != nil {
		t.Fatalf("resumed download: %v", err)
	}
	if res.Resumed != fi.Size() || res.Verified != VerifiedHash {
		t.Errorf("result %+v: want resumed at %d and verified by hash", res, fi.Size())
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatalf("resumed file has %d bytes and differs from the %d on the server", len(got), len(data))
	}
	if parts, _ := filepath.Glob(filepath.Join(dir, partPrefix+"*")); len(parts) != 0 {
		t.Fatalf("partials left after success: %v", parts)
	}

	// A partial with the right name but wrong bytes fails verification,
	// is removed, and the next call starts afresh.
	e, err := p.Stat(testCtx(t), "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "again.bin")
	os.WriteFile(partName(other, "/big.bin", e), bytes.Repeat([]byte{'x'}, 1<<20), 0o644)
	if _, err := p.DownloadResume(testCtx(t), "/big.bin", other, nil); !errors.Is(err, ErrVerify) {
		t.Fatalf("download over a corrupt partial: %v, want ErrVerify", err)
	}
	if _, err := os.Stat(other); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a download that failed verification was placed: %v", err)
	}
	if res, err := p.DownloadResume(testCtx(t), "/big.bin", other, nil); err != nil || res.Resumed != 0 {
		t.Fatalf("download after the corrupt partial was dropped: %+v, %v", res, err)
	}
	if got, _ := os.ReadFile(other); !bytes.Equal(got, data) {
		t.Fatal("fresh download differs from the server's file")
	}
}
