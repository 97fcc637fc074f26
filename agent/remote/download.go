package remote

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/syncagent/syncagent/internal/crashpoint"
)

// DownloadResult describes a completed download.
type DownloadResult struct {
	// Entry is the remote file as it was listed before the transfer.
	Entry
	// SHA256 is the hash of the bytes received (now at the local path).
	SHA256 [32]byte
	// Verified says how the transfer was checked.
	Verified string
	// Resumed is how many bytes an earlier, interrupted DownloadResume had
	// already fetched and this call did not fetch again.
	Resumed int64
	// Placed is the local file as DownloadChecked put it in place (its
	// size and modification time), taken before the rename: a caller
	// recording what it wrote must use it, not a later look at the path,
	// which may already see the user's next edit.
	Placed os.FileInfo
}

// Download fetches remotePath into localPath without a reader ever seeing
// a partial file: the bytes go to a temporary (TempPrefix) file in the
// target directory (created as needed) while SHA-256 is computed, are
// checked against the server's size and HASH where offered, synced to
// disk, given the remote modification time and renamed into place.
//
// A remote file that changes during the transfer fails with ErrVerify.
// progress, if not nil, is called from the calling goroutine with the
// number of bytes received so far. The new file gets the mode of the file
// it replaces, or 0644.
func (p *Pool) Download(ctx context.Context, remotePath, localPath string, progress func(int64)) (DownloadResult, error) {
	return p.DownloadChecked(ctx, remotePath, localPath, progress, nil)
}

// DownloadChecked is Download with a last look before the file is
// replaced: ready, if not nil, is called once the complete, verified and
// synced temporary is about to be renamed over localPath. If ready returns
// an error the temporary is removed, localPath is left as it is and that
// error is returned unwrapped, so a caller can refuse to overwrite a local
// file that changed while the download ran. ready runs on the calling
// goroutine.
func (p *Pool) DownloadChecked(ctx context.Context, remotePath, localPath string, progress func(int64),
	ready func(DownloadResult) error) (DownloadResult, error) {
	if err := checkPath(remotePath); err != nil {
		return DownloadResult{}, err
	}
	dir := filepath.Dir(localPath)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return DownloadResult{}, local(fmt.Errorf("download: %w", err))
	}
	tmp, err := os.CreateTemp(dir, TempPrefix+"*")
	if err != nil {
		return DownloadResult{}, local(fmt.Errorf("download: %w", err))
	}
	placed := false
	defer func() {
		if !placed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var res DownloadResult
	err = p.do(ctx, func(s *slot) error {
		var err error
		res, err = p.download(s, remotePath, tmp, progress)
		return err
	})
	if err != nil {
		return DownloadResult{}, opError("download", remotePath, err)
	}
	if err := finishLocal(tmp, localPath, res.ModTime); err != nil {
		return DownloadResult{}, local(fmt.Errorf("download %s: %w", remotePath, err))
	}
	if res.Placed, err = os.Stat(tmp.Name()); err != nil {
		return DownloadResult{}, local(fmt.Errorf("download %s: %w", remotePath, err))
	}
	if ready != nil {
		if err := ready(res); err != nil {
			return DownloadResult{}, err
		}
	}
	crashpoint.Hit(crashpoint.DownloadFetched)
	if err := os.Rename(tmp.Name(), localPath); err != nil {
		return DownloadResult{}, local(fmt.Errorf("download %s: %w", remotePath, err))
	}
	placed = true
	// The rename is durable only once the folder is synced: before that a
	// power loss may bring back the old file while the caller's state
	// record (written next) says the new one is there.
	if err := syncDir(dir); err != nil {
		return DownloadResult{}, local(fmt.Errorf("download %s: sync folder: %w", remotePath, err))
	}
	crashpoint.Hit(crashpoint.DownloadRenamed)
	return res, nil
}

// syncDir fsyncs the folder dir, making the renames into it durable.
// Windows has no folder fsync (NTFS journals the rename itself).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (p *Pool) download(s *slot, remote string, tmp *os.File, progress func(int64)) (DownloadResult, error) {
	ctl := s.ctl
	var res DownloadResult
	var err error
	if res.Entry, err = p.stat(s, remote); err != nil {
		return res, err
	}
	if res.Dir {
		return res, ErrNotFile
	}
	resp, err := s.ftp.Retr(remote)
	if err != nil {
		return res, err
	}
	h := sha256.New()
	w := &progressWriter{w: io.MultiWriter(tmp, h), progress: progress}
	n, copyErr := io.Copy(w, resp)
	closeErr := resp.Close()
	switch {
	case w.err != nil:
		return res, local(w.err)
	case copyErr != nil:
		return res, copyErr
	case closeErr != nil:
		return res, closeErr
	}
	copy(res.SHA256[:], h.Sum(nil))
	res.Verified = VerifiedNone
	if ctl.caps.MLSD || ctl.caps.SIZE {
		if n != res.Size {
			return res, fmt.Errorf("%w: received %d bytes, listed size %d", ErrVerify, n, res.Size)
		}
		res.Verified = VerifiedSize
	}
	res.Size = n
	if ctl.caps.HASH && ctl.caps.HashSHA256 {
		sum, err := ctl.hash(remote)
		if err != nil {
			return res, err
		}
		if sum != res.SHA256 {
			return res, fmt.Errorf("%w: server hash %x, received %x", ErrVerify, sum, res.SHA256)
		}
		res.Verified = VerifiedHash
	}
	return res, nil
}

// finishLocal makes the temporary durable and gives it its final mode (that
// of the file it replaces, else 0644: CreateTemp makes it 0600) and the
// remote modification time. The caller renames it into place.
func finishLocal(tmp *os.File, dst string, mtime time.Time) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(dst); err == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm()
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(tmp.Name(), mtime, mtime); err != nil {
			return err
		}
	}
	return nil
}

// progressWriter reports progress and remembers local write errors, so
// that they are not mistaken for network errors.
type progressWriter struct {
	w        io.Writer
	done     int64
	progress func(int64)
	err      error
}

func (w *progressWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	w.done += int64(n)
	if err != nil {
		w.err = err
	} else if w.progress != nil {
		w.progress(w.done)
	}
	return n, err
}
