package server

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syncagent/syncagent/server/ftpfs"
)

// SITE BATCH: many small uploads over one data connection.
//
// A STOR costs a data connection, a reply and a commit per file, which
// dominates when files are a few KiB. After EPSV/PASV (or PORT), the client
// sends "SITE BATCH", the server answers 150, and the client writes records
// on the data connection:
//
//	record  = "F" SP size SP mtime SP pathlen LF path data trailer
//	trailer = sha256-hex LF      ; "-" LF drops the file (changed while read)
//	end     = "E" LF
//
// size and pathlen are decimal byte counts; mtime is RFC 3659's
// YYYYMMDDHHMMSS[.sss] or "-" to keep the time of the upload; path is
// resolved like STOR's argument. Each file is written to the server's
// staging area exactly as a STOR would be (same jail, same permission and
// append-only rules, old versions kept), its SHA-256 is computed on
// receipt, and it is committed under its name only when that matches the
// trailer, so a reader never sees a partial or corrupt file. Commits run a
// few at a time so their fsyncs share journal commits.
//
// The final reply is multi-line, one line per record in order:
//
//	226-Batch: 3 files, 2 stored.
//	 0 226 type=file;size=4096;modify=...;unique=...;perm=...; a.txt
//	 1 550 Permission denied.
//	 2 226 type=file;...; b.txt
//	226 End.
//
// A record that cannot be read (bad framing, the data connection lost, ABOR)
// ends the batch with 426 (501 for bad framing); the records committed
// before it stay committed and are listed.
const (
	batchMaxRecords = 10000   // records in one batch
	batchMaxHeader  = 64      // bytes in a record's header line
	batchCommitMax  = 32      // uploads received before they are committed together
	batchCommitPar  = 8       // commits running at once
	batchMaxPending = 8 << 20 // bytes received before they are committed together
)

// errBatchFraming marks a malformed batch stream.
var errBatchFraming = errors.New("malformed batch record")

// batchUpload is one received record waiting for its commit.
type batchUpload struct {
	index int
	path  string
	up    *ftpfs.Upload
}

// handleBatch runs one batch: the SITE BATCH subcommand.
func (s *session) handleBatch() {
	s.startTransfer("SITE BATCH", "", "Ok to send batch.", func(x *transfer, c net.Conn) (int, string) {
		if c == nil {
			return codeTransferAborted, ""
		}
		b := &batchRun{s: s, x: x, r: bufio.NewReaderSize(&deadlineReader{c: c, d: s.srv.dataTimeout()}, 64<<10)}
		err := b.run()
		b.flush()
		code, head := codeTransferComplete, fmt.Sprintf("Batch: %d files, %d stored.", b.n, b.stored)
		switch {
		case errors.Is(err, errBatchFraming):
			code, head = codeParamSyntax, fmt.Sprintf("Batch stopped at record %d: %v.", b.n, err)
		case err != nil || x.aborted.Load():
			code, head = codeTransferAborted, fmt.Sprintf("Batch aborted at record %d; %d stored.", b.n, b.stored)
		}
		return code, strings.Join(append(append([]string{head}, b.lines...), "End."), "\n")
	})
}

// batchRun holds the state of one batch while it is read and committed.
type batchRun struct {
	s       *session
	x       *transfer
	r       *bufio.Reader
	n       int // records read
	stored  int
	lines   []string
	pending []batchUpload
	bytes   int64 // received in pending
	buf     []byte
}

func (b *batchRun) run() error {
	b.buf = make([]byte, 32<<10)
	for {
		if b.x.aborted.Load() {
			return errors.New("aborted")
		}
		line, err := b.header()
		if err != nil {
			return err
		}
		if line == "E" {
			return nil
		}
		if b.n >= batchMaxRecords {
			return fmt.Errorf("%w: more than %d records", errBatchFraming, batchMaxRecords)
		}
		if err := b.record(line); err != nil {
			return err
		}
		b.n++
		if len(b.pending) >= batchCommitMax || b.bytes >= batchMaxPending {
			b.flush()
		}
	}
}

// header reads one header line, without its LF.
func (b *batchRun) header() (string, error) {
	var line []byte
	for {
		c, err := b.r.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return string(line), nil
		}
		if len(line) >= batchMaxHeader {
			return "", fmt.Errorf("%w: header too long", errBatchFraming)
		}
		line = append(line, c)
	}
}

// record reads one file record after its "F ..." header line and queues
// its upload for commit, or notes why it was refused.
func (b *batchRun) record(line string) error {
	f := strings.Split(line, " ")
	if len(f) != 4 || f[0] != "F" {
		return fmt.Errorf("%w: bad header %q", errBatchFraming, line)
	}
	size, err1 := strconv.ParseInt(f[1], 10, 64)
	plen, err2 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || size < 0 || plen <= 0 || plen > maxLineLength {
		return fmt.Errorf("%w: bad header %q", errBatchFraming, line)
	}
	var mtime time.Time
	if f[2] != "-" {
		t, err := parseFTPTime(f[2])
		if err != nil {
			return fmt.Errorf("%w: bad time %q", errBatchFraming, f[2])
		}
		mtime = t
	}
	name := make([]byte, plen)
	if _, err := io.ReadFull(b.r, name); err != nil {
		return err
	}
	if bytes.ContainsAny(name, "\r\n\x00") {
		return fmt.Errorf("%w: control character in path", errBatchFraming)
	}
	up, code, msg := b.open(string(name))
	var dst io.Writer = io.Discard
	h := sha256.New()
	if up != nil {
		dst = io.MultiWriter(up.File(), h)
	}
	n, err := io.CopyBuffer(struct{ io.Writer }{dst}, io.LimitReader(b.r, size), b.buf)
	b.x.bytes.Add(n)
	if err == nil && n < size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && up != nil && isNoSpace(err) {
		// The disk is full: drop this file, read past its data, go on.
		up.Abort()
		up, code, msg = nil, codeExceededStorage, "Insufficient storage space; upload discarded."
		_, err = io.CopyN(io.Discard, b.r, size-n)
	}
	if err != nil {
		if up != nil {
			up.Abort()
		}
		return err
	}
	trailer, err := b.header()
	if err != nil {
		if up != nil {
			up.Abort()
		}
		return err
	}
	if up == nil {
		b.note(code, msg)
		return nil
	}
	switch want, herr := hex.DecodeString(trailer); {
	case trailer == "-":
		up.Abort()
		b.note(codeFileBusy, "File dropped by the client; nothing was changed.")
	case herr != nil || len(want) != sha256.Size:
		up.Abort()
		return fmt.Errorf("%w: bad trailer", errBatchFraming)
	case !bytes.Equal(want, h.Sum(nil)):
		up.Abort()
		b.note(codeLocalError, "SHA-256 of the received data does not match; upload discarded.")
	default:
		if !mtime.IsZero() {
			if err := up.SetModTime(mtime); err != nil {
				up.Abort()
				b.note(errorReply(err))
				return nil
			}
		}
		b.pending = append(b.pending, batchUpload{index: len(b.lines), path: up.Name(), up: up})
		b.bytes += size
		b.lines = append(b.lines, "") // filled in by flush
	}
	return nil
}

// open starts the upload of one record, as STOR would.
func (b *batchRun) open(arg string) (*ftpfs.Upload, int, string) {
	p, err := ftpfs.Resolve(b.s.cwd, arg)
	if err != nil {
		code, msg := errorReply(err)
		return nil, code, msg
	}
	up, err := b.s.fs.Create(p, ftpfs.CreateTruncate, 0)
	if err != nil {
		code, msg := errorReply(err)
		return nil, code, msg
	}
	return up, 0, ""
}

// note records the outcome of a record that was not stored.
func (b *batchRun) note(code int, msg string) {
	b.lines = append(b.lines, fmt.Sprintf("%d %d %s", len(b.lines), code, msg))
}

// flush commits the pending uploads, a few at a time, and fills in their
// reply lines with the facts of the committed files.
func (b *batchRun) flush() {
	var wg sync.WaitGroup
	sem := make(chan struct{}, batchCommitPar)
	for i := range b.pending {
		p := &b.pending[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			b.lines[p.index] = b.commit(p)
		}()
	}
	wg.Wait()
	for _, p := range b.pending {
		if strings.HasPrefix(b.lines[p.index], strconv.Itoa(p.index)+" 226 ") {
			b.stored++
		}
	}
	b.pending, b.bytes = b.pending[:0], 0
}

// commit puts one received file in place and returns its reply line.
func (b *batchRun) commit(p *batchUpload) string {
	prefix := strconv.Itoa(p.index) + " "
	if err := p.up.Commit(); err != nil {
		code, msg := errorReply(err)
		if code == codeLocalError {
			b.s.log.Error("commit batch upload", "path", p.path, "err", err)
		}
		return prefix + strconv.Itoa(code) + " " + msg
	}
	fi, err := b.s.fs.Stat(p.path)
	if err != nil {
		// Stored, but gone or replaced already: say so without facts.
		return prefix + strconv.Itoa(codeTransferComplete) + " " + pathBase(p.path)
	}
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	b.s.writeFacts(w, fi, "", pathBase(p.path))
	w.Flush()
	return prefix + strconv.Itoa(codeTransferComplete) + " " + strings.TrimRight(sb.String(), "\r\n")
}

// pathBase is the last element of a virtual path.
func pathBase(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// deadlineReader reads from a connection with a fresh read deadline for
// every read, so a batch may take long in total but never stalls for more
// than d at a time. Used by one goroutine.
type deadlineReader struct {
	c net.Conn
	d time.Duration
}

func (r *deadlineReader) Read(p []byte) (int, error) {
	r.c.SetReadDeadline(time.Now().Add(r.d))
	return r.c.Read(p)
}

// replyText sends msg as a one-line reply or, when it holds line breaks, as
// a multi-line reply whose first and last lines carry the code.
func (s *session) replyText(code int, msg string) {
	lines := strings.Split(msg, "\n")
	if len(lines) < 2 {
		s.reply(code, msg)
		return
	}
	s.replyLines(code, lines[0], lines[1:len(lines)-1], lines[len(lines)-1])
}
