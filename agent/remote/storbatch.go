package remote

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/syncagent/syncagent/internal/crashpoint"
)

// storBatch is UploadBatch on a server without SITE BATCH, with the same
// safety as Upload: every file goes to a temporary name with a STOR of its
// own, one after another on s; then one write sets the times of all the
// temporaries and asks for what verifies them (see check), and once every
// reply is in, one write renames each verified temporary into place (see
// place). Each file costs the round trips of its STOR; the checks and
// renames of the whole batch cost two. A temporary that fails is deleted;
// the name of each one made is added to temps.
func (p *Pool) storBatch(s *slot, files []BatchFile, res []BatchResult, temps *[]string) error {
	var fins []*finishing
	var at []int // index in files of each of fins
	for i, bf := range files {
		if res[i].Err != nil {
			continue
		}
		if p.noRename.Load() {
			// Some files may have to be written in place (see
			// mustWriteInPlace), which Upload knows how to do.
			r, err := p.uploadLocal(s, bf)
			if err != nil && !isFileErr(err) {
				return err
			}
			res[i].UploadResult, res[i].Err = r, batchErr(bf, err)
			continue
		}
		f, err := p.storTemp(s, bf, temps)
		if err != nil {
			if !isFileErr(err) {
				return err
			}
			res[i].Err = batchErr(bf, err)
			continue
		}
		fins, at = append(fins, f), append(at, i)
	}
	if len(fins) == 0 {
		return nil
	}
	if err := p.check(s, fins); err != nil {
		return err
	}
	crashpoint.Hit(crashpoint.UploadSent)
	err := p.place(s, fins)
	crashpoint.Hit(crashpoint.UploadRenamed)
	for k, f := range fins {
		i := at[k]
		switch {
		case f.err != nil:
			res[i].Err = batchErr(files[i], f.err)
			if !leavesConnBroken(f.err) || errors.Is(f.err, ErrVerify) {
				p.discard(s, f.temp)
			}
		case f.entry.Name != "": // else place stopped before it, with err
			res[i].UploadResult = UploadResult{Entry: f.entry, SHA256: f.sum, Verified: f.verified}
			if writeOnly(f.entry.Perm) {
				p.noRename.Store(true)
			}
		}
	}
	return err
}

// storTemp sends the local file of bf to a fresh temporary beside its
// target (creating the target's directory if the STOR is refused), and
// returns it ready for check; the temporary's name is added to temps
// before it is written. An error for this file alone satisfies isFileErr;
// any other is the connection's.
func (p *Pool) storTemp(s *slot, bf BatchFile, temps *[]string) (*finishing, error) {
	file, err := os.Open(bf.Local)
	if err != nil {
		return nil, local(err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, local(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, local(ErrNotFile)
	}
	f := &finishing{temp: tempName(path.Dir(bf.Remote)), target: bf.Remote, size: fi.Size(), mtime: fi.ModTime(), want: bf.Expect}
	*temps = append(*temps, f.temp)
	body := func() *hashingReader {
		return &hashingReader{r: io.NewSectionReader(file, 0, f.size), h: sha256.New()}
	}
	src := body()
	err = s.ctl.stor(f.temp, src, 0, f.size)
	if refusedPermanently(err) {
		// Most likely the directory does not exist yet.
		if merr := p.mkdirAll(s, path.Dir(bf.Remote)); merr != nil {
			return nil, merr
		}
		src = body()
		err = s.ctl.stor(f.temp, src, 0, f.size)
	}
	if err != nil {
		if !leavesConnBroken(err) || src.localErr != nil {
			p.discard(s, f.temp)
		}
		if src.localErr != nil {
			return nil, local(src.localErr)
		}
		return nil, err
	}
	if src.done != f.size || changed(bf.Local, fi) {
		p.discard(s, f.temp)
		return nil, ErrSourceChanged
	}
	copy(f.sum[:], src.h.Sum(nil))
	return f, nil
}

// uploadLocal is Upload of one BatchFile on s.
func (p *Pool) uploadLocal(s *slot, bf BatchFile) (UploadResult, error) {
	file, err := os.Open(bf.Local)
	if err != nil {
		return UploadResult{}, local(err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return UploadResult{}, local(err)
	}
	if !fi.Mode().IsRegular() {
		return UploadResult{}, local(ErrNotFile)
	}
	return p.upload(s, file, bf.Local, fi, bf.Remote, bf.Expect, nil)
}

// isFileErr reports an error that concerns one file of a batch and leaves
// the connection usable for the others.
func isFileErr(err error) bool {
	var le *localError
	return errors.As(err, &le) || !leavesConnBroken(err)
}

// batchErr is the BatchResult.Err of a file that failed alone: a local
// error names the local file, any other the remote one.
func batchErr(bf BatchFile, err error) error {
	if err == nil {
		return nil
	}
	var le *localError
	if errors.As(err, &le) {
		return local(fmt.Errorf("upload %s: %w", bf.Local, le.err))
	}
	return opError("upload", bf.Remote, err)
}
