package server

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path"
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
//	record  = "F" SP size SP mtime SP pathlen [SP expect] LF path data trailer
//	trailer = sha256-hex LF      ; "-" LF drops the file (changed while read)
//	end     = "E" LF
//
// size and pathlen are decimal byte counts; mtime is RFC 3659's
// YYYYMMDDHHMMSS[.sss] or "-" to keep the time of the upload; path is
// resolved like STOR's argument; expect, if present, is a precondition in
// SITE EXPECT's facts syntax ("absent", or "size=...;sha256=...;"): the
// file is put in place only if its path is then as expected, else its
// line says 450 Precondition failed (see handle_cond.go). Each file is written to the server's
// staging area exactly as a STOR would be (same jail, same permission and
// append-only rules, old versions kept), its SHA-256 is computed on
// receipt, and it is committed under its name only when that matches the
// trailer, so a reader never sees a partial or corrupt file. Files are
// written a few at a time while the next records arrive, and committed in
// groups: one sync of the file system makes a group's staged files
// durable, they are renamed into place, and a second sync makes the
// renames durable before the reply.
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
	batchMaxHeader  = 256     // bytes in a record's header line (with an expect field)
	batchMemMax     = 1 << 20 // records up to this size are received in memory
	batchWorkers    = 8       // files being written at once
	batchGroup      = 64      // staged files committed together (one pair of syncs)
)

// errBatchFraming marks a malformed batch stream.
var errBatchFraming = errors.New("malformed batch record")

// handleBatch runs one batch: the SITE BATCH subcommand.
func (s *session) handleBatch() {
	clear(s.expects) // a change of the tree: SITE EXPECT's are dropped
	s.startTransfer("SITE BATCH", "", "Ok to send batch.", func(x *transfer, c net.Conn) (int, string) {
		if c == nil {
			return codeTransferAborted, ""
		}
		b := &batchRun{s: s, x: x, r: bufio.NewReaderSize(newProgressConn(c, s.srv.dataTimeout()), 64<<10),
			sem: make(chan struct{}, batchWorkers), busy: make(map[string]bool)}
		err := b.run()
		b.wg.Wait()
		// Records fully received and staged before a failure are
		// committed too, as they would have been one by one.
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

// batchRun holds the state of one batch. Records are read in order by the
// transfer's goroutine; receiving a small record needs no file system call.
// Up to batchWorkers goroutines create, write and time the staged files,
// and every batchGroup staged files (and at the end) are committed
// together by ftpfs.CommitAll, whose two file-system syncs replace an
// fsync per file and per directory.
type batchRun struct {
	s   *session
	x   *transfer
	r   *bufio.Reader
	n   int // records read
	buf []byte
	sem chan struct{} // one per running worker
	wg  sync.WaitGroup

	flushMu sync.Mutex // held while a group commits, so groups commit in order

	mu     sync.Mutex
	lines  []string        // the reply line of each record, "" while it runs
	stored int             // records committed
	busy   map[string]bool // paths staged or being staged, not yet committed
	staged []stagedFile    // staged, in the order they were staged
}

// stagedFile is a record written to its staged file, waiting for its
// group's commit.
type stagedFile struct {
	index int
	path  string
	up    *ftpfs.Upload
	fi    fs.FileInfo // the staged file's facts, which the rename keeps
}

// batchFile is one received record on its way to a worker.
type batchFile struct {
	index  int
	path   string
	mtime  time.Time
	data   []byte        // the content, for records received in memory
	up     *ftpfs.Upload // the staged upload, for records streamed to disk
	expect *ftpfs.Expect // the record's precondition, if any
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

// record reads one file record after its "F ..." header line and hands it
// to a worker, or notes why it is refused.
func (b *batchRun) record(line string) error {
	f := strings.Split(line, " ")
	if len(f) != 4 && len(f) != 5 || f[0] != "F" {
		return fmt.Errorf("%w: bad header %q", errBatchFraming, line)
	}
	size, err1 := strconv.ParseInt(f[1], 10, 64)
	plen, err2 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || size < 0 || plen <= 0 || plen > maxLineLength {
		return fmt.Errorf("%w: bad header %q", errBatchFraming, line)
	}
	bf := batchFile{}
	if len(f) == 5 {
		var err error
		if bf.expect, err = parseExpect(f[4]); err != nil {
			return fmt.Errorf("%w: %v", errBatchFraming, err)
		}
	}
	if f[2] != "-" {
		t, err := parseFTPTime(f[2])
		if err != nil {
			return fmt.Errorf("%w: bad time %q", errBatchFraming, f[2])
		}
		bf.mtime = t
	}
	name := make([]byte, plen)
	if _, err := io.ReadFull(b.r, name); err != nil {
		return err
	}
	if bytes.ContainsAny(name, "\r\n\x00") {
		return fmt.Errorf("%w: control character in path", errBatchFraming)
	}
	p, rerr := ftpfs.Resolve(b.s.cwd, string(name))
	code, msg := 0, ""
	if rerr != nil {
		code, msg = errorReply(rerr)
	}
	h := sha256.New()
	var n int64
	var err error
	switch {
	case rerr != nil:
		n, err = io.CopyBuffer(io.Discard, io.LimitReader(b.r, size), b.buf)
	case size <= batchMemMax:
		bf.data = make([]byte, size)
		var k int
		k, err = io.ReadFull(b.r, bf.data)
		n = int64(k)
		h.Write(bf.data[:k])
	default:
		// A large record goes straight to its staged file.
		bf.up, err = b.s.fs.Create(p, ftpfs.CreateTruncate, 0)
		if err != nil {
			code, msg = errorReply(err)
			n, err = io.CopyBuffer(io.Discard, io.LimitReader(b.r, size), b.buf)
			break
		}
		n, err = io.CopyBuffer(struct{ io.Writer }{io.MultiWriter(bf.up.File(), h)}, io.LimitReader(b.r, size), b.buf)
		if err != nil && isNoSpace(err) {
			bf.up.Abort()
			bf.up, code, msg = nil, codeExceededStorage, "Insufficient storage space; upload discarded."
			var m int64
			m, err = io.CopyBuffer(io.Discard, io.LimitReader(b.r, size-n), b.buf)
			n += m
		}
	}
	b.x.bytes.Add(n)
	if err == nil && n < size {
		err = io.ErrUnexpectedEOF
	}
	trailer := ""
	if err == nil {
		trailer, err = b.header()
	}
	if err != nil {
		if bf.up != nil {
			bf.up.Abort()
		}
		return err
	}
	want, herr := hex.DecodeString(trailer)
	if trailer != "-" && (herr != nil || len(want) != sha256.Size) {
		if bf.up != nil {
			bf.up.Abort()
		}
		return fmt.Errorf("%w: bad trailer", errBatchFraming)
	}
	bf.index, bf.path = b.slot(), p
	switch {
	case code != 0:
		b.done(bf.index, code, msg)
	case trailer == "-":
		b.done(bf.index, codeFileBusy, "File dropped by the client; nothing was changed.")
	case !bytes.Equal(want, h.Sum(nil)):
		b.done(bf.index, codeLocalError, "SHA-256 of the received data does not match; upload discarded.")
	default:
		b.submit(bf)
		return nil
	}
	if bf.up != nil {
		bf.up.Abort()
	}
	return nil
}

// slot adds the reply line of the next record and returns its index.
func (b *batchRun) slot() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, "")
	return len(b.lines) - 1
}

// done sets the reply line of a record that was not stored.
func (b *batchRun) done(i, code int, msg string) {
	b.mu.Lock()
	b.lines[i] = fmt.Sprintf("%d %d %s", i, code, msg)
	b.mu.Unlock()
}

// submit starts a worker for bf once one is free. A record for a path
// already staged waits for that one to be committed, so the last record
// wins.
func (b *batchRun) submit(bf batchFile) {
	b.mu.Lock()
	again := b.busy[bf.path]
	b.mu.Unlock()
	if again {
		b.wg.Wait()
		b.flush()
	}
	b.sem <- struct{}{}
	b.mu.Lock()
	b.busy[bf.path] = true
	b.mu.Unlock()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		st, line := b.stage(bf)
		b.mu.Lock()
		full := false
		if st.up == nil {
			b.lines[bf.index] = line
			delete(b.busy, bf.path)
		} else {
			b.staged = append(b.staged, st)
			full = len(b.staged) >= batchGroup
		}
		b.mu.Unlock()
		<-b.sem
		if full {
			b.flush()
		}
	}()
}

// stage writes (if it is in memory) and times one received file. It
// returns the staged file, or a zero one and the record's reply line.
func (b *batchRun) stage(bf batchFile) (stagedFile, string) {
	fail := func(err error) (stagedFile, string) {
		if bf.up != nil {
			bf.up.Abort()
		}
		return stagedFile{}, b.failLine(bf.index, bf.path, err)
	}
	if bf.up == nil {
		up, err := b.s.fs.Create(bf.path, ftpfs.CreateTruncate, 0)
		if err != nil {
			return fail(err)
		}
		bf.up = up
		if _, err := bf.up.File().Write(bf.data); err != nil {
			return fail(err)
		}
	}
	bf.up.SetExpect(bf.expect)
	if !bf.mtime.IsZero() {
		if err := bf.up.SetModTime(bf.mtime); err != nil {
			return fail(err)
		}
	}
	fi, err := bf.up.File().Stat()
	if err != nil {
		return fail(err)
	}
	return stagedFile{index: bf.index, path: bf.path, up: bf.up, fi: fi}, ""
}

// flush commits the files staged so far as one group and sets their
// reply lines.
func (b *batchRun) flush() {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	group := b.staged
	b.staged = nil
	b.mu.Unlock()
	if len(group) == 0 {
		return
	}
	ups := make([]*ftpfs.Upload, len(group))
	for i, st := range group {
		ups[i] = st.up
	}
	errs := b.s.fs.CommitAll(ups)
	for i, st := range group {
		var line string
		if errs[i] != nil {
			line = b.failLine(st.index, st.path, errs[i])
		} else {
			var sb strings.Builder
			w := bufio.NewWriter(&sb)
			b.s.writeFacts(w, st.fi, "", path.Base(st.path))
			w.Flush()
			line = strconv.Itoa(st.index) + " " + strconv.Itoa(codeTransferComplete) + " " + strings.TrimRight(sb.String(), "\r\n")
		}
		b.mu.Lock()
		b.lines[st.index] = line
		if errs[i] == nil {
			b.stored++
		}
		delete(b.busy, st.path)
		b.mu.Unlock()
	}
}

// failLine is the reply line of record index, which failed with err.
func (b *batchRun) failLine(index int, p string, err error) string {
	code, msg := errorReply(err)
	if code == codeLocalError {
		b.s.log.Error("batch upload", "path", p, "err", err)
	}
	return strconv.Itoa(index) + " " + strconv.Itoa(code) + " " + msg
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
