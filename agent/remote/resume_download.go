package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// partPrefix starts the name of a resumable download's partial file.
const partPrefix = TempPrefix + "part-"

// partName is where an interrupted DownloadResume of remotePath into
// localPath keeps what it fetched: beside the target, named after the
// remote path and the remote file's size and modification time, so a file
// that changed on the server never continues a stale partial.
func partName(localPath, remotePath string, e Entry) string {
	who := sha256.Sum256([]byte(remotePath))
	ver := sha256.Sum256([]byte(strconv.FormatInt(e.Size, 10) + "/" + e.ModTime.UTC().Format("20060102150405.000")))
	return filepath.Join(filepath.Dir(localPath), partPrefix+hex.EncodeToString(who[:6])+"-"+hex.EncodeToString(ver[:6]))
}

// DownloadResume fetches remotePath into localPath like Download, but an
// interrupted call leaves its partial file beside localPath and the next
// call for the same, unchanged remote file continues from its end with
// REST STREAM instead of starting over. The whole file is verified (HASH
// where offered, else SIZE) before it is renamed into place; a partial
// that does not verify is discarded. For ad hoc transfers (syncagent get):
// one call at a time per target.
func (p *Pool) DownloadResume(ctx context.Context, remotePath, localPath string, progress func(int64)) (DownloadResult, error) {
	if err := checkPath(remotePath); err != nil {
		return DownloadResult{}, err
	}
	if err := os.MkdirAll(filepath.Dir(localPath), 0o755); err != nil {
		return DownloadResult{}, local(fmt.Errorf("download: %w", err))
	}
	var res DownloadResult
	err := p.do(ctx, func(s *slot) error {
		var err error
		res, err = p.downloadResume(s, remotePath, localPath, progress)
		return err
	})
	if err != nil {
		return DownloadResult{}, opError("download", remotePath, err)
	}
	return res, nil
}

func (p *Pool) downloadResume(s *slot, remotePath, localPath string, progress func(int64)) (DownloadResult, error) {
	var res DownloadResult
	e, err := p.stat(s, remotePath)
	if err != nil {
		return res, err
	}
	if e.Dir {
		return res, ErrNotFile
	}
	res.Entry = e
	part := partName(localPath, remotePath, e)
	removeStaleParts(part)
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return res, local(fmt.Errorf("download: %w", err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return res, local(err)
	}
	offset := fi.Size()
	if offset > e.Size || !s.ctl.caps.REST {
		offset = 0
	}
	if err := f.Truncate(offset); err != nil {
		return res, local(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, offset)); err != nil {
		return res, local(err)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return res, local(err)
	}
	resp, err := s.ftp.RetrFrom(remotePath, uint64(offset))
	if err != nil {
		return res, err
	}
	w := &progressWriter{w: io.MultiWriter(f, h), done: offset, progress: progress}
	n, copyErr := io.Copy(w, resp)
	closeErr := resp.Close()
	switch { // the partial stays for the next call
	case w.err != nil:
		return res, local(w.err)
	case copyErr != nil:
		return res, copyErr
	case closeErr != nil:
		return res, closeErr
	}
	res.Resumed = offset
	res.Size = offset + n
	copy(res.SHA256[:], h.Sum(nil))
	discard := func(err error) (DownloadResult, error) {
		f.Close()
		os.Remove(part)
		return res, err
	}
	if res.Size != e.Size {
		return discard(fmt.Errorf("%w: have %d bytes, listed size %d", ErrVerify, res.Size, e.Size))
	}
	res.Verified = VerifiedSize
	if s.ctl.caps.HASH && s.ctl.caps.HashSHA256 {
		sum, err := s.ctl.hash(remotePath)
		if err != nil {
			return res, err
		}
		if sum != res.SHA256 {
			return discard(fmt.Errorf("%w: server hash %x, received %x", ErrVerify, sum, res.SHA256))
		}
		res.Verified = VerifiedHash
	}
	if err := finishLocal(f, localPath, e.ModTime); err != nil {
		return res, local(err)
	}
	if err := os.Rename(part, localPath); err != nil {
		return res, local(fmt.Errorf("download %s: %w", remotePath, err))
	}
	return res, nil
}

// removeStaleParts deletes partial files of the same remote path made from
// another version of the remote file.
func removeStaleParts(part string) {
	dir, name := filepath.Split(part)
	who := name[:strings.LastIndexByte(name, '-')+1]
	entries, _ := os.ReadDir(dir)
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), who) && en.Name() != name {
			os.Remove(filepath.Join(dir, en.Name()))
		}
	}
}
