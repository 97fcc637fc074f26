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

// entries returns what a listing of p shows: the directory's children, or
// the file itself.
func (s *session) entries(p string) ([]fs.FileInfo, bool, error) {
	fi, err := s.fs.Stat(p)
	if err != nil {
		return nil, false, err
	}
	if !fi.IsDir() {
		return []fs.FileInfo{fi}, false, nil
	}
	list, err := s.fs.ReadDir(p)
	return list, true, err
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
	list, _, err := s.entries(p)
	if err != nil {
		s.replyError("stat", err)
		return
	}
	var b strings.Builder
	w := bufio.NewWriter(&b)
	for _, fi := range list {
		writeLSLine(w, fi)
		w.WriteString("\n")
	}
	w.Flush()
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if b.Len() == 0 {
		lines = nil
	}
	s.replyLines(codeFileStatus, "Status of "+p+":", lines, "End of status")
}
