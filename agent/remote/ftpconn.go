package remote

import (
	"net"
	"strings"

	"github.com/jlaffaye/ftp"
)

// ftpOnSession returns a jlaffaye/ftp ServerConn that talks over s's
// control connection, so that LIST (with jlaffaye's parser of the many LIST
// formats) and RETR cost no second connection and no second login.
//
// jlaffaye's Dial reads a 220 greeting before anything else; s has read the
// server's already, so the connection handed over replays it first. The
// ServerConn is never logged in (its Login would send USER again): it knows
// no server features, so it lists with LIST -a (only used where the server
// has no MLSD; -a, which vsftpd and most Unix servers understand, shows dot
// files that a plain LIST hides, as vsftpd does by default), finds data ports with EPSV and then PASV, and makes its data
// connections through s's dataDialer, which adds TLS when PROT P is on and
// resumes the control connection's TLS session. s and the ServerConn take
// turns on the connection, each reading every reply to what it sent, so
// neither's read buffer holds the other's replies. Like s, it is used by
// one goroutine at a time.
func (s *ctrlSession) ftpOnSession(cfg Config) (*ftp.ServerConn, error) {
	line, _, _ := strings.Cut(s.greeting, "\n")
	control := &sessionConn{Conn: s.conn, replay: []byte("220 " + line + "\r\n")}
	first := true
	return ftp.Dial(cfg.Address,
		ftp.DialWithDialFunc(func(_, addr string) (net.Conn, error) {
			// Called once for the control connection, then once per data
			// connection.
			if first {
				first = false
				return control, nil
			}
			return s.dialer.dial(addr)
		}),
		ftp.DialWithShutTimeout(cfg.OpTimeout),
		ftp.DialWithForceListHidden(true))
}

// sessionConn is a ctrlSession's control connection as jlaffaye/ftp sees
// it: reads start with the greeting to replay, and Close does nothing, as
// the session owns the connection (and the slot's connSet closes it).
type sessionConn struct {
	net.Conn
	replay []byte
}

func (c *sessionConn) Read(b []byte) (int, error) {
	if len(c.replay) > 0 {
		n := copy(b, c.replay)
		c.replay = c.replay[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

func (c *sessionConn) Close() error { return nil }
