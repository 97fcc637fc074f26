package remote

import (
	"errors"
	"fmt"
	"io"
	"net"
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
// pipelining: the server reads its control connection as a stream), or
// one at a time on a server that cannot take that (see checkPipelining).
// Callers send together only commands that are harmless whatever the ones
// before them answer: queries, MFMT on a temporary, or the pair RNFR RNTO
// (a failed RNFR makes the server refuse the RNTO with 503). Every reply
// is read before send returns; its error is the first reply that did not
// match its expect (a *textproto.Error, also in that reply's err), or the
// failure that left the connection out of step (then no replies).
func (s *ctrlSession) send(cmds ...pipelined) ([]reply, error) {
	if !s.serial {
		if err := s.write(cmds); err != nil {
			return nil, err
		}
	}
	out := make([]reply, len(cmds))
	var first error
	for i, c := range cmds {
		if s.serial {
			if err := s.write(cmds[i : i+1]); err != nil {
				return nil, err
			}
		}
		code, msg, err := s.tp.ReadResponse(c.expect)
		if err != nil && code == 0 {
			return nil, err
		}
		out[i] = reply{code, msg, err}
		if err != nil && first == nil {
			first = err
		}
	}
	return out, first
}

// write sends the commands in one write, without reading anything.
func (s *ctrlSession) write(cmds []pipelined) error {
	for _, c := range cmds {
		if strings.ContainsAny(c.line, "\r\n") {
			return fmt.Errorf("%w: CR or LF in command", ErrBadPath)
		}
	}
	for _, c := range cmds {
		s.tp.W.WriteString(c.line)
		s.tp.W.WriteString("\r\n")
	}
	return s.tp.W.Flush()
}

// pipelined is one command of a send, with the reply it expects: a code, a
// class (1-5) or 0 for any.
type pipelined struct {
	line   string
	expect int
}

// reply is one server reply to a command of a send.
type reply struct {
	code int
	msg  string
	err  error // a *textproto.Error when the code is not the one expected
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
	_, err := s.send(renameCmds(from, to)...)
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

// storEarlyMax is the largest STOR whose bytes are sent without waiting
// for the server's 1xx reply (see stor).
const storEarlyMax = 32 << 10

// refusedError is a transfer the server did not start: no byte of the
// body reached the file, and the body may have been read.
type refusedError struct{ err error }

func (e refusedError) Error() string { return e.err.Error() }
func (e refusedError) Unwrap() error { return e.err }

// refusedPermanently reports a transfer the server refused with a 5xx
// reply before taking any byte.
func refusedPermanently(err error) bool {
	var re refusedError
	return errors.As(err, &re) && permanentReply(err)
}

// stor uploads the size bytes of body to p over a new data connection,
// from offset (REST) when it is not 0, and waits for the server's final
// reply. As with jlaffaye/ftp's StorFrom, the reply is read whatever
// happened to the data, and every failure is returned (joined): a failed
// write (a read error of body included) and the final reply. A refused
// transfer is a refusedError.
//
// A small file on a plain data connection is written as soon as the data
// connection is made, in the round trip that would otherwise wait for the
// 1xx reply: the server reads it once it has opened the file, and if it
// refuses the STOR instead, it never reads it (the bytes fit in the
// sockets' buffers, so the write does not wait for the server either).
func (s *ctrlSession) stor(p string, body io.Reader, offset, size int64) error {
	early := offset == 0 && size <= storEarlyMax && s.passive && !s.serial && s.dialer.tlsConf == nil
	var dc net.Conn
	var err error
	if early {
		dc, err = s.passiveWith("STOR " + p)
	} else {
		dc, err = s.transfer("STOR "+p, offset)
	}
	if err != nil {
		return refusedError{err}
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
	if early {
		if _, _, err := s.tp.ReadResponse(1); err != nil {
			return refusedError{err} // what was written went nowhere
		}
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
