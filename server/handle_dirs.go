package server

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/syncagent/syncagent/server/ftpfs"
)

func (s *session) handlePWD(string) {
	s.reply(codePathCreated, quotePath(s.cwd)+" is the current directory.")
}

// quotePath quotes a path for a 257 reply, doubling embedded quotes (RFC 959 appendix II).
func quotePath(p string) string {
	return `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
}

func (s *session) handleCWD(arg string) {
	if arg == "" {
		arg = "/"
	}
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	fi, err := s.fs.Stat(p)
	if err == nil && !fi.IsDir() {
		err = ftpfs.ErrNotDir
	}
	if err != nil {
		s.replyError("cwd", err)
		return
	}
	s.cwd = p
	s.reply(codeFileOK, "Directory changed to "+p+".")
}

func (s *session) handleCDUP(string) { s.handleCWD("..") }

func (s *session) handleMKD(arg string) {
	if !s.needArg("MKD", arg) {
		return
	}
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	if err := s.fs.Mkdir(p); err != nil {
		s.replyError("mkd", err)
		return
	}
	s.reply(codePathCreated, quotePath(p)+" created.")
}

func (s *session) handleRMD(arg string) {
	if !s.needArg("RMD", arg) {
		return
	}
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	if s.user.AppendOnly {
		s.replyError("rmd", errAppendOnly)
		return
	}
	if p == "/" {
		s.replyError("rmd", ftpfs.ErrPermission)
		return
	}
	if err := s.fs.RemoveDirIf(p, s.expectFor(p)); err != nil {
		s.replyError("rmd", err)
		return
	}
	s.reply(codeFileOK, "Directory removed.")
}

// listTarget strips ls-style options ("-la") that clients put before a
// LIST or NLST path, and resolves what is left.
func (s *session) listTarget(arg string) (string, bool) {
	for strings.HasPrefix(arg, "-") {
		_, rest, _ := strings.Cut(arg, " ")
		arg = strings.TrimLeft(rest, " ")
	}
	return s.resolve(arg)
}

func (s *session) handleLIST(arg string) { s.list("LIST", arg) }
func (s *session) handleNLST(arg string) { s.list("NLST", arg) }

func (s *session) list(verb, arg string) {
	p, ok := s.listTarget(arg)
	if !ok {
		return
	}
	d, err := s.openListing(p, true)
	if err != nil {
		s.replyError(strings.ToLower(verb), err)
		return
	}
	s.sendListing(verb, p, d, func(w *bufio.Writer, fi fs.FileInfo) {
		if verb == "NLST" {
			w.WriteString(fi.Name())
		} else {
			writeLSLine(w, fi)
		}
		w.WriteString("\r\n")
	})
}

func (s *session) handleMLSD(arg string) {
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	d, err := s.openListing(p, false)
	if errors.Is(err, errListNotDir) {
		s.reply(codeParamSyntax, "MLSD needs a directory; use MLST for a file.")
		return
	}
	if err != nil {
		s.replyError("mlsd", err)
		return
	}
	// No cdir/pdir entries: RFC 3659 7.2 leaves them optional, and clients
	// that mirror a tree are simpler without them.
	s.sendListing("MLSD", p, d, func(w *bufio.Writer, fi fs.FileInfo) {
		s.writeFacts(w, fi, "", fi.Name())
	})
}

func (s *session) handleMLST(arg string) {
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	fi, err := s.fs.Stat(p)
	if err != nil {
		s.replyError("mlst", err)
		return
	}
	var b strings.Builder
	w := bufio.NewWriter(&b)
	s.writeFacts(w, fi, "", p)
	w.Flush()
	s.replyLines(codeFileOK, "Listing "+p, []string{strings.TrimRight(b.String(), "\r\n")}, "End")
}

func (s *session) handleSTAT(arg string) {
	if arg == "" {
		lines := []string{
			"Connected from " + s.remoteIP.String(),
			"Logged in as " + s.user.Name,
			"TYPE: " + modeName(s.binary) + ", STRU: File, MODE: Stream",
			fmt.Sprintf("TLS control: %v, data protection: %s", s.tlsOn, map[bool]string{true: "Private", false: "Clear"}[s.protP]),
			s.transferStatus(),
		}
		s.replyLines(codeSystemStatus, "syncserver status:", lines, "End of status")
		return
	}
	p, ok := s.listTarget(arg)
	if !ok {
		return
	}
	d, err := s.openListing(p, true)
	if err != nil {
		s.replyError("stat", err)
		return
	}
	defer d.Close()
	// A multi-line reply written as the directory is read, like a listing.
	w := bufio.NewWriterSize(replyWriter{s}, 32<<10)
	fmt.Fprintf(w, "%d-Status of %s:\r\n", codeFileStatus, p)
	err = writeListing(w, d, func(w *bufio.Writer, fi fs.FileInfo) {
		w.WriteString(" ")
		writeLSLine(w, fi)
		w.WriteString("\r\n")
	})
	last := "End of status"
	if err != nil {
		s.log.Info("stat: directory read failed", "path", p, "err", err)
		last = "End of status (incomplete: cannot read the directory)"
	}
	fmt.Fprintf(w, "%d %s\r\n", codeFileStatus, last)
	w.Flush()
}

// replyWriter writes text to the control connection (see session.write).
type replyWriter struct{ s *session }

func (r replyWriter) Write(p []byte) (int, error) {
	r.s.write(string(p))
	return len(p), nil
}
