package remote

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"strconv"
	"strings"

	"github.com/syncagent/syncagent/internal/crashpoint"
)

// BatchMaxFile is the largest file UploadBatch takes; larger files gain
// nothing from sharing a data connection and go through Upload.
const BatchMaxFile = 1 << 20

// BatchFile is one file of an UploadBatch.
type BatchFile struct {
	Local  string // local path
	Remote string // absolute remote path
	// Expect, if set, is what the remote path must be when the file is
	// put in place, else its result is ErrPrecondition (see UploadIf).
	// In a SITE BATCH it is sent only to a server offering SITE EXPECT;
	// elsewhere it is checked as UploadIf checks it.
	Expect *Expect
}

// BatchResult is the outcome of one file of an UploadBatch.
type BatchResult struct {
	// UploadResult is set when Err is nil: the file is on the server
	// under its name, its SHA-256 checked by the server on receipt.
	UploadResult
	// Err is why this file is not in place: ErrSourceChanged when it
	// changed while read, a local error when it could not be read, a
	// reply error (see ReplyCode) when the server refused it, or the
	// batch's own error when the batch ended before this file.
	Err error
}

// CanBatch reports whether UploadBatch is worth using: it is on every
// server (see UploadBatch), so the answer is true unless the pool cannot
// connect to learn the server's features, and then the error says why.
func (p *Pool) CanBatch(ctx context.Context) (bool, error) {
	_, err := p.Caps(ctx)
	return err == nil, err
}

// UploadBatch uploads small files (each at most BatchMaxFile bytes) over one
// connection of the pool, each as safely as Upload: nothing is put in place
// before its SHA-256 or its size was checked. On syncserver it uses SITE
// BATCH and one data connection: the server stages each file, checks its
// SHA-256 against the one computed here while reading it, sets its
// modification time and only then puts it in place. Elsewhere every file
// has its own STOR to a temporary name, and the checks and the renames of
// the whole batch each go in one write (see storBatch), which saves most
// of Upload's round trips. A file that cannot be read, changes while read,
// or is refused by the server fails alone, in its BatchResult. The error
// is for the batch as a whole (the connection failed): files whose result
// has no Err are in place even then, the others are not. If ctx ends
// mid-batch (the agent is stopping), the temporaries it made are deleted
// before it returns.
//
// UploadBatch is safe for concurrent use, like every Pool method; each call
// holds one connection.
func (p *Pool) UploadBatch(ctx context.Context, files []BatchFile) ([]BatchResult, error) {
	res := make([]BatchResult, len(files))
	for i, f := range files {
		if err := checkPath(f.Remote); err != nil {
			res[i].Err = err
		}
	}
	var temps []string // made by storBatch, for dropTemps
	err := p.do(ctx, func(s *slot) error {
		if !s.ctl.caps.Batch {
			return p.storBatch(s, files, res, &temps)
		}
		return p.batch(s, files, res)
	})
	if err != nil && ctx.Err() != nil {
		p.dropTemps(ctx, temps)
	}
	if err != nil {
		err = opError("upload batch", fmt.Sprintf("%d files", len(files)), err)
		for i := range res {
			if res[i].Err == nil && res[i].Verified == "" {
				res[i].Err = err
			}
		}
	}
	return res, err
}

// batch runs one SITE BATCH on s, filling res.
func (p *Pool) batch(s *slot, files []BatchFile, res []BatchResult) error {
	ctl := s.ctl
	dc, err := ctl.openData()
	if err != nil {
		return err
	}
	defer dc.Close()
	if _, _, err := ctl.cmd(1, "SITE BATCH"); err != nil {
		return err
	}
	w := bufio.NewWriterSize(dc, 64<<10)
	var sent []int // index in files of each record sent
	buf := make([]byte, 32<<10)
	for i, f := range files {
		if res[i].Err != nil {
			continue
		}
		if !ctl.caps.Expect {
			f.Expect = nil
		}
		sum, err := writeRecord(w, f, buf)
		var ns notSent
		if errors.As(err, &ns) {
			res[i].Err = local(fmt.Errorf("upload %s: %w", f.Local, ns.err))
			continue
		}
		if err != nil {
			return err
		}
		res[i].SHA256 = sum
		sent = append(sent, i)
	}
	if _, err := io.WriteString(w, "E\n"); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	crashpoint.Hit(crashpoint.UploadSent)
	if err := dc.Close(); err != nil {
		return fmt.Errorf("close data connection: %w", err)
	}
	code, msg, err := ctl.tp.ReadResponse(0)
	if err != nil && code == 0 {
		return err
	}
	seen := parseBatchReply(msg, sent, files, res)
	crashpoint.Hit(crashpoint.UploadRenamed)
	if code/100 != 2 {
		return &textproto.Error{Code: code, Msg: msg}
	}
	if seen != len(sent) {
		return fmt.Errorf("batch reply lists %d of %d files", seen, len(sent))
	}
	return nil
}

// notSent is the error of a file that could not be opened, so no record
// was sent for it.
type notSent struct{ err error }

func (e notSent) Error() string { return "not sent: " + e.err.Error() }

// writeRecord sends one file as a SITE BATCH record and returns the SHA-256
// of what it sent. A file that changes while read is sent with the "drop"
// trailer and reported by the server; one that cannot be opened is not
// sent at all (a notSent error).
func writeRecord(w *bufio.Writer, f BatchFile, buf []byte) ([32]byte, error) {
	var sum [32]byte
	file, err := os.Open(f.Local)
	if err != nil {
		return sum, notSent{err}
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return sum, notSent{err}
	}
	if !fi.Mode().IsRegular() {
		return sum, notSent{ErrNotFile}
	}
	size := fi.Size()
	expect := ""
	if f.Expect != nil {
		expect = " " + f.Expect.facts()
	}
	fmt.Fprintf(w, "F %d %s %d%s\n%s", size, fi.ModTime().UTC().Format("20060102150405.000"), len(f.Remote), expect, f.Remote)
	h := sha256.New()
	src := &hashingReader{r: io.LimitReader(file, size), h: h}
	n, err := io.CopyBuffer(w, src, buf)
	if err != nil && src.localErr == nil {
		return sum, err // the connection failed
	}
	if n < size {
		// The file shrank or could not be read: pad the record to its
		// announced size and drop it.
		if _, err := io.CopyN(w, zeroReader{}, size-n); err != nil {
			return sum, err
		}
		_, err := io.WriteString(w, "-\n")
		return sum, err
	}
	if batchAfterRead != nil {
		batchAfterRead(f.Local)
	}
	if changed(f.Local, fi) {
		_, err := io.WriteString(w, "-\n")
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	_, err = io.WriteString(w, hex.EncodeToString(sum[:])+"\n")
	return sum, err
}

// batchAfterRead, when set by a test, runs after a file's bytes are sent
// and before it is checked for changes.
var batchAfterRead func(local string)

// zeroReader reads zeros forever.
type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// parseBatchReply fills res from the lines of a SITE BATCH reply (as
// textproto returns it) and returns how many records it listed. Line k is
// about the k-th record sent, files[sent[k]].
func parseBatchReply(msg string, sent []int, files []BatchFile, res []BatchResult) int {
	seen := 0
	for _, line := range strings.Split(msg, "\n") {
		if !strings.HasPrefix(line, " ") {
			continue
		}
		num, rest, _ := strings.Cut(strings.TrimLeft(line, " "), " ")
		k, err := strconv.Atoi(num)
		if err != nil || k < 0 || k >= len(sent) {
			continue
		}
		i := sent[k]
		codeText, text, _ := strings.Cut(rest, " ")
		code, err := strconv.Atoi(codeText)
		if err != nil {
			continue
		}
		seen++
		switch {
		case code == codeClosingData:
			e, ok := parseMLSx(text)
			if !ok {
				e = Entry{}
			}
			e.Name = lastElem(files[i].Remote)
			res[i].Entry = e
			res[i].Verified = VerifiedHash
			res[i].Err = nil
		case code == codeFileBusy && strings.HasPrefix(text, "Precondition failed"):
			res[i].Err = fmt.Errorf("%w: %s", ErrPrecondition, files[i].Remote)
		case code == codeFileBusy:
			res[i].Err = ErrSourceChanged
		case code == codeLocalError && strings.Contains(text, "SHA-256"):
			res[i].Err = fmt.Errorf("%w: %s", ErrVerify, text)
		default:
			res[i].Err = opError("upload", files[i].Remote, &textproto.Error{Code: code, Msg: text})
		}
	}
	return seen
}
