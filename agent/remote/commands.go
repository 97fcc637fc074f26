package remote

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// More reply codes (RFC 959 section 4.2).
const (
	codePathCreated = 257
	codeRestMark    = 350 // REST accepted; also RNFR's "send RNTO"
)

// The commands below run on a slot's one control connection. Each reads
// every reply it asked for before returning, so the connection is ready for
// the next command whatever the outcome; an error that is not a reply (see
// leavesConnBroken) means it is not, and the pool drops it.

// send writes the commands in one go and reads their replies in order,
// without waiting for one reply before sending the next command (RFC 959
// pipelining: the server reads its control connection as a stream). It
// returns the first reply that does not match its expect (as a
// *textproto.Error), after reading the rest. Callers send together only
// commands that are harmless whatever the ones before them answer: a
// query, or the pair RNFR RNTO (a failed RNFR makes the server refuse the
// RNTO with 503). An expect of 0 accepts any code; the codes and texts of
// every reply are returned.
func (s *ctrlSession) send(cmds []pipelined) ([]reply, error) {
	for _, c := range cmds {
		if strings.ContainsAny(c.line, "\r\n") {
			return nil, fmt.Errorf("%w: CR or LF in command", ErrBadPath)
		}
	}
	w := s.tp.W
	for _, c := range cmds {
		w.WriteString(c.line)
		w.WriteString("\r\n")
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	out := make([]reply, len(cmds))
	var first error
	for i, c := range cmds {
		code, msg, err := s.tp.ReadResponse(c.expect)
		if err != nil && code == 0 {
			return nil, err // not a reply: the connection is out of step
		}
		out[i] = reply{code, msg}
		if err != nil && first == nil {
			first = err
		}
	}
	return out, first
}

// pipelined is one command of a send, with the reply code it expects.
type pipelined struct {
	line   string
	expect int
}

// reply is one server reply.
type reply struct {
	code int
	msg  string
}

// size returns the SIZE of p.
func (s *ctrlSession) size(p string) (int64, error) {
	_, msg, err := s.cmd(codeFileStatus, "SIZE %s", p)
	if err != nil {
		return 0, err
	}
	return parseSize(msg)
}

func parseSize(msg string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(msg), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad SIZE reply %q", msg)
	}
	return n, nil
}

// mdtm returns the modification time of p (RFC 3659 section 3), in UTC.
func (s *ctrlSession) mdtm(p string) (time.Time, error) {
	_, msg, err := s.cmd(codeFileStatus, "MDTM %s", p)
	if err != nil {
		return time.Time{}, err
	}
	return parseMDTM(msg)
}

func parseMDTM(msg string) (time.Time, error) {
	t := parseMLSTime(strings.TrimSpace(msg))
	if t.IsZero() {
		return t, fmt.Errorf("bad MDTM reply %q", msg)
	}
	return t, nil
}

// mfmtLine is the MFMT command setting p's modification time to t
// (draft-somers-ftp-mfxx).
func mfmtLine(p string, t time.Time) string {
	return "MFMT " + t.UTC().Format("20060102150405") + " " + p
}

// mfmt sets the modification time of p.
func (s *ctrlSession) mfmt(p string, t time.Time) error {
	_, _, err := s.cmd(codeFileStatus, "%s", mfmtLine(p, t))
	return err
}

// renameCmds are RNFR and RNTO, sent together.
func renameCmds(from, to string) []pipelined {
	return []pipelined{{"RNFR " + from, codeRestMark}, {"RNTO " + to, codeFileActionOK}}
}

// rename renames from to to in one round trip.
func (s *ctrlSession) rename(from, to string) error {
	_, err := s.send(renameCmds(from, to))
	return err
}

func (s *ctrlSession) dele(p string) error {
	_, _, err := s.cmd(codeFileActionOK, "DELE %s", p)
	return err
}

func (s *ctrlSession) mkd(p string) error {
	_, _, err := s.cmd(codePathCreated, "MKD %s", p)
	return err
}

func (s *ctrlSession) rmd(p string) error {
	_, _, err := s.cmd(codeFileActionOK, "RMD %s", p)
	return err
}

func (s *ctrlSession) cwd(p string) error {
	_, _, err := s.cmd(codeFileActionOK, "CWD %s", p)
	return err
}

// stor uploads body to p over a new data connection, from offset (REST)
// when it is not 0, and waits for the server's final reply. As with
// jlaffaye/ftp's StorFrom, the reply is read whatever happened to the
// data, and every failure is returned (joined): a refused command, a
// failed write (a read error of body included) and the final reply.
func (s *ctrlSession) stor(p string, body io.Reader, offset int64) error {
	dc, err := s.openData()
	if err != nil {
		return err
	}
	if offset > 0 {
		if _, _, err := s.cmd(codeRestMark, "REST %d", offset); err != nil {
			dc.Close()
			return err
		}
	}
	if _, _, err := s.cmd(1, "STOR %s", p); err != nil {
		dc.Close()
		return err
	}
	var errs []error
	n, err := io.Copy(dc, body)
	if err != nil {
		errs = append(errs, err)
	} else if hs, ok := dc.(interface{ Handshake() error }); ok && n == 0 {
		// Nothing was written, so a TLS data connection has not shaken
		// hands yet; the server waits for it to store an empty file.
		if err := hs.Handshake(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := dc.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close data connection: %w", err))
	}
	if _, _, err := s.tp.ReadResponse(2); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// quit says goodbye. The reply is read (bounded by the connection's idle
// timeout) so the server sees an orderly end of the session.
func (s *ctrlSession) quit() {
	s.cmd(0, "QUIT")
}
