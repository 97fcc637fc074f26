package remote

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/syncagent/syncagent/internal/crashpoint"
)

// Verification methods reported in UploadResult and DownloadResult.
const (
	VerifiedHash = "hash" // the server's SHA-256 matched ours
	VerifiedSize = "size" // only the size could be compared
	VerifiedNone = "none" // the server offers neither
)

// UploadResult describes a completed upload.
type UploadResult struct {
	// Entry is the remote file after the upload (size, modification time
	// and unique ID as the server reports them).
	Entry
	// SHA256 is the hash of the bytes uploaded.
	SHA256 [32]byte
	// Verified says how the upload was checked before it was put in place.
	Verified string
	// Resumed is how many bytes an earlier, interrupted call had already
	// sent and this one did not send again.
	Resumed int64
}

// resumeState remembers the temporary of an interrupted upload so that
// the next call for the same path and unchanged source can continue it.
type resumeState struct {
	temp  string
	size  int64
	mtime time.Time
	src   os.FileInfo
}

func (p *Pool) takeResume(remote string, fi os.FileInfo) (resumeState, bool) {
	p.resumeMu.Lock()
	defer p.resumeMu.Unlock()
	rs, ok := p.resumes[remote]
	delete(p.resumes, remote)
	if !ok || rs.size != fi.Size() || !rs.mtime.Equal(fi.ModTime()) || !os.SameFile(rs.src, fi) {
		return rs, false // rs.temp, if set, is now an orphan for the caller to remove
	}
	return rs, true
}

func (p *Pool) keepResume(remote string, rs resumeState) {
	p.resumeMu.Lock()
	p.resumes[remote] = rs
	p.resumeMu.Unlock()
}

func (p *Pool) resumeTemps() map[string]bool {
	p.resumeMu.Lock()
	defer p.resumeMu.Unlock()
	m := make(map[string]bool, len(p.resumes))
	for _, rs := range p.resumes {
		m[rs.temp] = true
	}
	return m
}

// tempName returns a fresh temporary name in dir.
func tempName(dir string) string {
	return path.Join(dir, TempPrefix+strings.ToLower(rand.Text()[:16]))
}

// Upload sends the local file to remotePath without a reader ever seeing a
// partial file: the bytes go to a temporary name in the target directory
// (whose parents are created as needed) while SHA-256 is computed; the
// temporary is verified (HASH where offered, else SIZE), given the local
// modification time (MFMT where offered) and renamed into place.
//
// If the local file changes while it is read, nothing is put in place and
// the error is ErrSourceChanged. If the connection dies mid-transfer, the
// error is transient and the temporary is remembered: the next Upload of
// the same unchanged file to the same path continues it with REST where
// the server supports that and kept the partial file (syncserver discards
// aborted uploads by design, so there the next call starts over). If ctx
// ends mid-transfer (the agent is stopping), the temporary is deleted
// before Upload returns.
//
// progress, if not nil, is called from the calling goroutine with the
// number of bytes of the file done so far.
func (p *Pool) Upload(ctx context.Context, localPath, remotePath string, progress func(int64)) (UploadResult, error) {
	return p.UploadIf(ctx, localPath, remotePath, nil, progress)
}

// UploadIf is Upload whose final rename into place happens only if the
// remote path is then as want expects (nil: always), else the temporary is
// removed and the error is ErrPrecondition (see Expect for how exact that
// is on each kind of server). An upload written in place (an account that
// may not rename over the file) is not held to want.
func (p *Pool) UploadIf(ctx context.Context, localPath, remotePath string, want *Expect, progress func(int64)) (UploadResult, error) {
	if err := checkPath(remotePath); err != nil {
		return UploadResult{}, err
	}
	f, err := os.Open(localPath)
	if err != nil {
		return UploadResult{}, local(fmt.Errorf("upload: %w", err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return UploadResult{}, local(fmt.Errorf("upload: %w", err))
	}
	if !fi.Mode().IsRegular() {
		return UploadResult{}, local(fmt.Errorf("upload %s: %w", localPath, ErrNotFile))
	}
	var res UploadResult
	err = p.do(ctx, func(s *slot) error {
		var err error
		res, err = p.upload(s, f, localPath, fi, remotePath, want, progress)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			p.dropTemp(ctx, remotePath)
		}
		return UploadResult{}, opError("upload", remotePath, err)
	}
	return res, nil
}

func (p *Pool) upload(s *slot, f *os.File, localPath string, fi os.FileInfo, remote string, want *Expect, progress func(int64)) (UploadResult, error) {
	ctl := s.ctl
	caps := ctl.caps
	size := fi.Size()
	if p.mustWriteInPlace(ctl, remote) {
		return p.uploadInPlace(s, f, localPath, fi, remote, progress)
	}
	rs, ok := p.takeResume(remote, fi)
	if !ok {
		if rs.temp != "" {
			p.discard(s, rs.temp) // the source changed since: start afresh
		}
		rs = resumeState{temp: tempName(path.Dir(remote)), size: size, mtime: fi.ModTime(), src: fi}
	}
	var offset int64
	if ok && caps.REST {
		if n, err := s.ctl.size(rs.temp); err == nil && n > 0 && n <= size {
			offset = n
		}
	}
	h := sha256.New()
	if offset > 0 {
		if n, err := io.Copy(h, io.NewSectionReader(f, 0, offset)); err != nil || n != offset {
			return UploadResult{}, local(fmt.Errorf("read %s: short read of resumed prefix (%w)", localPath, err))
		}
	}
	var src *hashingReader
	send := func() error {
		src = &hashingReader{r: io.NewSectionReader(f, offset, size-offset), h: h, done: offset, progress: progress}
		var body io.Reader = src
		if size-offset >= streamMin {
			body = readAhead{src}
		}
		return s.ctl.stor(rs.temp, body, offset, size-offset)
	}
	// Remember the temporary before sending: if the connection dies, the
	// next call can resume it.
	p.keepResume(remote, rs)
	err := send()
	if offset == 0 && refusedPermanently(err) {
		// Most likely the directory does not exist yet.
		if merr := p.mkdirAll(s, path.Dir(remote)); merr != nil {
			return UploadResult{}, merr
		}
		h.Reset()
		err = send()
	}
	if err != nil {
		if src.localErr != nil || !IsTransient(err) {
			p.forgetResume(remote)
			p.discard(s, rs.temp)
		}
		return UploadResult{}, err
	}
	// From here the temporary is complete: no more resuming.
	p.forgetResume(remote)
	if src.done != size || changed(localPath, fi) {
		p.discard(s, rs.temp)
		return UploadResult{}, ErrSourceChanged
	}
	res := UploadResult{Resumed: offset}
	copy(res.SHA256[:], h.Sum(nil))
	// A connection lost from here on would orphan the complete temporary
	// (the call that could delete it is the one that failed): remember it
	// so the next Upload of the unchanged file resumes at its end, or
	// removes it if the file changed.
	fin := &finishing{temp: rs.temp, target: remote, size: size, sum: res.SHA256, mtime: fi.ModTime(), want: want}
	if err := firstErr(p.check(s, []*finishing{fin}), fin.err); err != nil {
		p.keepOrDiscard(s, remote, rs, err)
		return UploadResult{}, err
	}
	crashpoint.Hit(crashpoint.UploadSent)
	if err := firstErr(p.place(s, []*finishing{fin}), fin.err); err != nil {
		p.keepOrDiscard(s, remote, rs, err)
		return UploadResult{}, err
	}
	res.Verified, res.Entry = fin.verified, fin.entry
	crashpoint.Hit(crashpoint.UploadRenamed)
	if writeOnly(res.Entry.Perm) {
		p.noRename.Store(true) // the next upload over this file must go in place
	}
	return res, nil
}

func (p *Pool) forgetResume(remote string) {
	p.resumeMu.Lock()
	delete(p.resumes, remote)
	p.resumeMu.Unlock()
}

// keepOrDiscard handles a complete temporary after a failure: on a broken
// connection it is kept for the next Upload to resume (or remove), else
// deleted.
func (p *Pool) keepOrDiscard(s *slot, remote string, rs resumeState, err error) {
	if leavesConnBroken(err) && !errors.Is(err, ErrVerify) {
		p.keepResume(remote, rs)
		return
	}
	p.discard(s, rs.temp)
}

// discard deletes a temporary after a failure; it is best effort, since
// CleanTemps catches what is left.
func (p *Pool) discard(s *slot, temp string) {
	if err := s.ctl.dele(temp); err != nil && ReplyCode(err) != 550 {
		p.log.Debug("cannot remove temporary", "path", temp, "err", err)
	}
}

// changed reports whether the file at name is no longer the one described
// by before (replaced, resized or modified).
func changed(name string, before os.FileInfo) bool {
	now, err := os.Stat(name)
	return err != nil || !os.SameFile(before, now) || now.Size() != before.Size() || !now.ModTime().Equal(before.ModTime())
}

// hashingReader feeds what it reads into a hash and reports progress.
type hashingReader struct {
	r        io.Reader
	h        hash.Hash
	done     int64
	progress func(int64)
	localErr error
}

func (r *hashingReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if n > 0 {
		r.h.Write(b[:n])
		r.done += int64(n)
		if r.progress != nil {
			r.progress(r.done)
		}
	}
	if err != nil && err != io.EOF {
		r.localErr = err
		err = local(err)
	}
	return n, err
}

// mustWriteInPlace reports whether the server says this login may replace
// the existing file at remote but not rename over it (MLST perm has "w" but
// no "f"), as syncserver's append-only accounts: the temporary-and-rename
// way would leave a temporary it could never move or delete.
func (p *Pool) mustWriteInPlace(ctl *ctrlSession, remote string) bool {
	if !ctl.caps.MLSD || !p.noRename.Load() {
		return false
	}
	e, err := ctl.mlst(remote)
	return err == nil && !e.Dir && writeOnly(e.Perm)
}

// writeOnly reports whether an RFC 3659 perm fact allows writing a file
// but not renaming it.
func writeOnly(perm string) bool {
	return strings.Contains(perm, "w") && !strings.Contains(perm, "f")
}

// uploadInPlace stores the file straight under its name. Only used where
// the server forbids renames over the file; syncserver still writes such an
// upload atomically and keeps the replaced content as a version.
func (p *Pool) uploadInPlace(s *slot, f *os.File, localPath string, fi os.FileInfo, remote string, progress func(int64)) (UploadResult, error) {
	h := sha256.New()
	src := &hashingReader{r: io.NewSectionReader(f, 0, fi.Size()), h: h, progress: progress}
	if err := s.ctl.stor(remote, src, 0, fi.Size()); err != nil {
		return UploadResult{}, err
	}
	if src.done != fi.Size() || changed(localPath, fi) {
		return UploadResult{}, ErrSourceChanged
	}
	var res UploadResult
	copy(res.SHA256[:], h.Sum(nil))
	fin := &finishing{temp: remote, target: remote, size: fi.Size(), sum: res.SHA256, mtime: fi.ModTime()}
	if err := firstErr(p.check(s, []*finishing{fin}), fin.err); err != nil {
		return UploadResult{}, err
	}
	res.Verified, res.Entry = fin.verified, fin.entryWithoutMLST()
	if s.ctl.caps.MLSD {
		var err error
		if res.Entry, err = s.ctl.mlst(remote); err != nil {
			return UploadResult{}, err
		}
	}
	return res, nil
}
