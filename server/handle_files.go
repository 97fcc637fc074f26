package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/syncagent/syncagent/server/ftpfs"
)

// copyChunk is how much data moves between two refreshes of the data
// connection's deadline. Each chunk still goes through io.Copy between
// *os.File and *net.TCPConn, so Linux uses sendfile and splice.
const copyChunk = 256 << 10

// copyData copies src to dst in chunks, refreshing conn's deadline before
// each so a stalled peer is dropped after timeout, and counts bytes in n.
func copyData(dst io.Writer, src io.Reader, conn net.Conn, timeout time.Duration, n *atomic.Int64) error {
	for {
		conn.SetDeadline(time.Now().Add(timeout))
		k, err := io.CopyN(dst, src, copyChunk)
		n.Add(k)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// resolve turns a path argument into a virtual path, replying 553 when the
// jail refuses it.
func (s *session) resolve(arg string) (string, bool) {
	p, err := ftpfs.Resolve(s.cwd, arg)
	if err != nil {
		s.replyError("resolve", err)
		return "", false
	}
	return p, true
}

// needArg replies 501 when a command that takes a path has none.
func (s *session) needArg(verb, arg string) bool {
	if arg == "" {
		s.reply(codeParamSyntax, verb+" needs a path.")
		return false
	}
	return true
}

func (s *session) handleRETR(arg string) {
	if !s.needArg("RETR", arg) {
		return
	}
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	f, err := s.openForRead(p)
	if err != nil {
		s.replyError("retr", err)
		return
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		s.replyError("retr", err)
		return
	}
	offset := s.rest
	s.rest = 0
	if offset > fi.Size() {
		f.Close()
		s.reply(codeInvalidRestart, fmt.Sprintf("REST offset %d is beyond the end of the file (%d bytes).", offset, fi.Size()))
		return
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		s.replyError("retr", err)
		return
	}
	binary := s.binary
	opening := fmt.Sprintf("Opening %s mode data connection for %s (%d bytes).", modeName(binary), path.Base(p), fi.Size()-offset)
	s.startTransfer("RETR", p, opening, func(x *transfer, c net.Conn) (int, string) {
		defer f.Close()
		if c == nil {
			return codeTransferAborted, ""
		}
		var src io.Reader = f
		if !binary {
			src = newASCIIEncoder(f)
		}
		if err := copyData(c, src, c, s.srv.dataTimeout(), &x.bytes); err != nil {
			return codeTransferAborted, "Transfer aborted: data connection failed."
		}
		return codeTransferComplete, "Transfer complete."
	})
}

// openForRead opens a file for RETR, refusing directories.
func (s *session) openForRead(p string) (*os.File, error) {
	if _, ok := versionsPath(p); !ok {
		return s.fs.Open(p) // checks on the open file: one lookup, not two
	}
	fi, err := s.fs.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, ftpfs.ErrIsDir
	}
	return s.fs.Open(p)
}

func (s *session) handleSTOR(arg string) { s.store("STOR", arg, ftpfs.CreateTruncate) }
func (s *session) handleAPPE(arg string) { s.store("APPE", arg, ftpfs.CreateAppend) }

func (s *session) handleSTOU(arg string) {
	if arg == "" {
		arg = "stou"
	}
	s.store("STOU", arg, ftpfs.CreateUnique)
}

// store receives a file. Data lands in a temporary file that is renamed
// into place only when the transfer completed, so an aborted upload leaves
// the previous content intact.
func (s *session) store(verb, arg string, mode ftpfs.CreateMode) {
	if !s.needArg(verb, arg) {
		return
	}
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	offset := s.rest
	s.rest = 0
	if offset > 0 {
		if fi, err := s.fs.Stat(p); err != nil || fi.Size() < offset {
			s.reply(codeInvalidRestart, "REST offset is beyond the end of the existing file.")
			return
		}
	}
	up, err := s.fs.Create(p, mode, offset)
	if err != nil {
		s.replyError(strings.ToLower(verb), err)
		return
	}
	up.SetExpect(s.expectFor(p))
	opening := "Ok to send data."
	if mode == ftpfs.CreateUnique {
		opening = "FILE: " + path.Base(up.Name())
	}
	binary := s.binary
	s.startTransfer(verb, up.Name(), opening, func(x *transfer, c net.Conn) (int, string) {
		if c == nil {
			up.Abort()
			return codeTransferAborted, ""
		}
		var src io.Reader = c
		if !binary {
			src = newASCIIDecoder(c)
		}
		if err := receiveData(up, src, c, s.srv.dataTimeout(), &x.bytes); err != nil || x.aborted.Load() {
			up.Abort()
			if isNoSpace(err) {
				return codeExceededStorage, "Insufficient storage space; upload discarded."
			}
			return codeTransferAborted, "Transfer aborted; upload discarded, previous file intact."
		}
		if err := up.Commit(); err != nil {
			up.Abort()
			code, msg := errorReply(err)
			if code == codeLocalError {
				s.log.Error("commit upload", "path", up.Name(), "err", err)
			}
			return code, msg
		}
		if mode == ftpfs.CreateUnique {
			return codeTransferComplete, "Transfer complete (unique file name: " + path.Base(up.Name()) + ")."
		}
		return codeTransferComplete, "Transfer complete."
	})
}

func (s *session) handleREST(arg string) {
	n, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
	if err != nil || n < 0 {
		s.reply(codeParamSyntax, "REST needs a non-negative byte offset.")
		return
	}
	s.rest = n
	s.reply(codePending, fmt.Sprintf("Restarting at %d. Send STOR or RETR to continue.", n))
}

func (s *session) handleDELE(arg string) {
	if !s.needArg("DELE", arg) {
		return
	}
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	if s.user.AppendOnly {
		s.replyError("dele", errAppendOnly)
		return
	}
	if err := s.fs.RemoveIf(p, s.expectFor(p)); err != nil {
		s.replyError("dele", err)
		return
	}
	s.log.Info("delete", "path", p)
	s.reply(codeFileOK, "File deleted.")
}

func (s *session) handleRNFR(arg string) {
	if !s.needArg("RNFR", arg) {
		return
	}
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	if p == "/" {
		s.replyError("rnfr", ftpfs.ErrPermission)
		return
	}
	if err := s.fs.writable("rnfr", p); err != nil {
		s.replyError("rnfr", err)
		return
	}
	if _, err := s.fs.Stat(p); err != nil {
		s.replyError("rnfr", err)
		return
	}
	s.rnfr = p
	s.reply(codePending, "Ready for RNTO.")
}

func (s *session) handleRNTO(arg string) {
	from := s.rnfr
	s.rnfr = ""
	if from == "" {
		s.reply(codeBadSequence, "Send RNFR first.")
		return
	}
	if !s.needArg("RNTO", arg) {
		return
	}
	to, ok := s.resolve(arg)
	if !ok {
		return
	}
	if s.user.AppendOnly {
		if _, err := s.fs.Stat(to); err == nil {
			s.replyError("rnto", errAppendOnly)
			return
		}
	}
	if err := s.fs.RenameIf(from, to, s.expectFor(from), s.expectFor(to)); err != nil {
		s.replyError("rnto", err)
		return
	}
	s.log.Info("rename", "from", from, "to", to)
	s.reply(codeFileOK, "Rename successful.")
}

func (s *session) handleSIZE(arg string) {
	if !s.needArg("SIZE", arg) {
		return
	}
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	fi, err := s.fs.Stat(p)
	if err == nil && fi.IsDir() {
		err = ftpfs.ErrIsDir
	}
	if err != nil {
		s.replyError("size", err)
		return
	}
	s.reply(codeFileStatus, strconv.FormatInt(fi.Size(), 10))
}

func (s *session) handleMDTM(arg string) {
	if !s.needArg("MDTM", arg) {
		return
	}
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	fi, err := s.fs.Stat(p)
	if err != nil {
		s.replyError("mdtm", err)
		return
	}
	s.reply(codeFileStatus, fi.ModTime().UTC().Format("20060102150405"))
}

// handleMFMT sets a file's modification time (draft-somers-ftp-mfxx).
func (s *session) handleMFMT(arg string) {
	ts, name, ok := strings.Cut(arg, " ")
	if !ok || name == "" {
		s.reply(codeParamSyntax, "MFMT needs YYYYMMDDHHMMSS[.sss] and a path.")
		return
	}
	t, err := parseFTPTime(ts)
	if err != nil {
		s.reply(codeParamSyntax, "MFMT needs YYYYMMDDHHMMSS[.sss] and a path.")
		return
	}
	p, ok := s.resolve(name)
	if !ok {
		return
	}
	if err := s.fs.Chtimes(p, t); err != nil {
		s.replyError("mfmt", err)
		return
	}
	s.reply(codeFileStatus, "Modify="+ts+"; "+name)
}

// parseFTPTime parses RFC 3659's time-val: YYYYMMDDHHMMSS[.sss] in UTC.
func parseFTPTime(v string) (time.Time, error) {
	if len(v) < 14 {
		return time.Time{}, errors.New("short time")
	}
	layout := "20060102150405"
	if len(v) > 14 {
		if v[14] != '.' || len(v) > 24 {
			return time.Time{}, errors.New("bad fraction")
		}
		layout += "." + strings.Repeat("0", len(v)-15)
	}
	return time.ParseInLocation(layout, v, time.UTC)
}

func modeName(binary bool) string {
	if binary {
		return "BINARY"
	}
	return "ASCII"
}
