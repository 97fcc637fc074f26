package remote

import (
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
)

// openData asks for a passive data connection (EPSV, else PASV) and dials
// it. Like jlaffaye/ftp, it ignores the address in a PASV reply and uses the
// control connection's peer, which defeats PASV bounce tricks and NAT
// misconfiguration alike.
func (s *ctrlSession) openData() (net.Conn, error) {
	if !s.noEPSV {
		code, msg, err := s.cmd(0, "EPSV")
		if err != nil {
			return nil, err
		}
		if port, err := passivePort(code, msg); err == nil {
			s.passive = true
			return s.dialData(port)
		}
		s.noEPSV = true
	}
	code, msg, err := s.cmd(codePassive, "PASV")
	if err != nil {
		return nil, err
	}
	port, err := passivePort(code, msg)
	if err != nil {
		return nil, err
	}
	s.passive = true
	return s.dialData(port)
}

// passiveCmd is the passive command that works on this connection.
func (s *ctrlSession) passiveCmd() pipelined {
	if s.noEPSV {
		return pipelined{"PASV", codePassive}
	}
	return pipelined{"EPSV", codeExtPassive}
}

// passivePort reads the port from an EPSV (229) or PASV (227) reply.
func passivePort(code int, msg string) (int, error) {
	switch code {
	case codeExtPassive: // "Entering Extended Passive Mode (|||port|)"
		i, j := strings.Index(msg, "|||"), strings.LastIndex(msg, "|")
		if i >= 0 && j > i+3 {
			if port, err := strconv.Atoi(msg[i+3 : j]); err == nil && port > 0 && port < 1<<16 {
				return port, nil
			}
		}
		return 0, fmt.Errorf("bad EPSV reply %q", msg)
	case codePassive: // "Entering Passive Mode (h1,h2,h3,h4,p1,p2)"
		i, j := strings.Index(msg, "("), strings.LastIndex(msg, ")")
		if i < 0 || j < i {
			return 0, fmt.Errorf("bad PASV reply %q", msg)
		}
		f := strings.Split(msg[i+1:j], ",")
		if len(f) != 6 {
			return 0, fmt.Errorf("bad PASV reply %q", msg)
		}
		hi, err1 := strconv.Atoi(strings.TrimSpace(f[4]))
		lo, err2 := strconv.Atoi(strings.TrimSpace(f[5]))
		if err1 != nil || err2 != nil || hi < 0 || hi > 255 || lo < 0 || lo > 255 || hi|lo == 0 {
			return 0, fmt.Errorf("bad PASV reply %q", msg)
		}
		return hi<<8 | lo, nil
	}
	return 0, &textproto.Error{Code: code, Msg: msg}
}

func (s *ctrlSession) dialData(port int) (net.Conn, error) {
	return s.dialer.dial(net.JoinHostPort(s.host, strconv.Itoa(port)))
}

// transfer opens a passive data connection for cmd (STOR, MLSD, SITE
// TREE...), sends cmd, from offset (REST) when it is not 0, and returns
// the data connection once the server has answered 1xx; the caller moves
// the data, closes the connection and reads the final reply.
//
// Once the passive command has worked on this control connection, it goes
// in one write with cmd, which saves a round trip: the server answers the
// passive command, then takes cmd and waits for the data connection,
// which is dialled as soon as that first reply is read (a server must
// accept the data connection after the transfer command anyway, since the
// network may delay it). If the passive command fails all the same, the
// transfer command fails without a data connection (425) and the next
// transfer asks the plain way. A resumed transfer is not sent this way: a
// refused REST would turn it into a transfer from the start.
func (s *ctrlSession) transfer(cmd string, offset int64) (net.Conn, error) {
	if !s.passive || offset > 0 || s.serial {
		dc, err := s.openData()
		if err != nil {
			return nil, err
		}
		if offset > 0 {
			if _, _, err := s.cmd(codeRestMark, "REST %d", offset); err != nil {
				dc.Close()
				return nil, err
			}
		}
		if _, _, err := s.cmd(1, "%s", cmd); err != nil {
			dc.Close()
			return nil, err
		}
		return dc, nil
	}
	dc, err := s.passiveWith(cmd)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.tp.ReadResponse(1); err != nil {
		dc.Close()
		return nil, err
	}
	return dc, nil
}

// passiveWith sends the passive command that worked before and cmd in one
// write, reads the passive reply and dials the data connection. The reply
// to cmd is left for the caller to read.
func (s *ctrlSession) passiveWith(cmd string) (net.Conn, error) {
	if err := s.write([]pipelined{s.passiveCmd(), {cmd, 1}}); err != nil {
		return nil, err
	}
	code, msg, err := s.tp.ReadResponse(0)
	if err != nil {
		return nil, err
	}
	port, perr := passivePort(code, msg)
	if perr != nil {
		s.passive = false
		// The server takes cmd without a data connection: it refuses it.
		if _, _, err := s.tp.ReadResponse(1); err != nil {
			return nil, fmt.Errorf("%w (%w)", perr, err)
		}
		return nil, fmt.Errorf("%w, yet %s was accepted", perr, cmd) // drops the connection
	}
	dc, err := s.dialData(port)
	if err != nil {
		// A server that refused cmd at once may have closed the passive
		// port before the dial: then its refusal is waiting, and the
		// connection is still in step.
		if _, _, rerr := s.tp.ReadResponse(1); ReplyCode(rerr) != 0 {
			return nil, fmt.Errorf("%w (data connection: %v)", rerr, err)
		}
		return nil, err // drops the connection
	}
	return dc, nil
}
