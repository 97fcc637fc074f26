package remote

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// TLS modes accepted in Config.TLS.
const (
	TLSNone     = "none"
	TLSExplicit = "explicit"
	TLSImplicit = "implicit"
)

// Defaults used when the matching Config field is zero.
const (
	DefaultConnections = 4
	DefaultOpTimeout   = 30 * time.Second
	DefaultDialTimeout = 15 * time.Second
)

// Config says how to reach and log in to one FTP server. It is a plain
// value, read once by NewPool.
type Config struct {
	// Address is host:port of the control channel.
	Address string
	// User and Password log in; with a client certificate the server may
	// accept any password.
	User, Password string
	// TLS is none (or empty), explicit (AUTH TLS) or implicit.
	TLS string
	// CAFile is a PEM bundle to verify the server with; empty: system roots.
	CAFile string
	// InsecureSkipVerify disables server certificate verification.
	InsecureSkipVerify bool
	// ClientCert and ClientKey are PEM files presented for certificate login.
	ClientCert, ClientKey string
	// Connections is how many connections the pool keeps at most; 0 means
	// DefaultConnections.
	Connections int
	// OpTimeout bounds each network read or write that makes no progress;
	// 0 means DefaultOpTimeout.
	OpTimeout time.Duration
	// DialTimeout bounds making a TCP connection; 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// WrapData, when set, wraps every data connection as it is opened
	// (below TLS): the bandwidth limit (agent/bwlimit) hooks in here.
	WrapData func(net.Conn) net.Conn
}

func (c Config) withDefaults() Config {
	if c.TLS == "" {
		c.TLS = TLSNone
	}
	if c.Connections <= 0 {
		c.Connections = DefaultConnections
	}
	if c.OpTimeout <= 0 {
		c.OpTimeout = DefaultOpTimeout
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	return c
}

// validate checks the fields that cannot work whatever the network does.
func (c Config) validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		errs = append(errs, fmt.Errorf("address: %w", err))
	}
	if c.User == "" {
		errs = append(errs, errors.New("user: must be set"))
	}
	switch c.TLS {
	case TLSNone, TLSExplicit, TLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("tls: must be none, explicit or implicit, not %q", c.TLS))
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		errs = append(errs, errors.New("client_cert, client_key: set both or neither"))
	}
	if c.TLS == TLSNone && (c.ClientCert != "" || c.CAFile != "") {
		errs = append(errs, errors.New("tls: client_cert and ca_file need tls explicit or implicit"))
	}
	return errors.Join(errs...)
}

// baseTLSConfig loads the CA and client certificate once. Each connection
// uses a clone with its own session cache (see newConnTLS).
func (c Config) baseTLSConfig() (*tls.Config, error) {
	if c.TLS == TLSNone {
		return nil, nil
	}
	host, _, _ := net.SplitHostPort(c.Address)
	tc := &tls.Config{
		ServerName:         host,
		InsecureSkipVerify: c.InsecureSkipVerify,
		MinVersion:         tls.VersionTLS12,
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificates", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// newConnTLS returns a per-connection clone with a private session cache:
// servers that require data connections to resume the control connection's
// session (syncserver, vsftpd, ProFTPD) refuse a data connection that
// resumed another control connection's session, which a shared cache
// (keyed only by server name) would offer.
func newConnTLS(base *tls.Config) *tls.Config {
	if base == nil {
		return nil
	}
	tc := base.Clone()
	tc.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	return tc
}

// Caps are the server's optional features, from its FEAT reply.
type Caps struct {
	MLSD       bool // MLST/MLSD machine listings (RFC 3659)
	HASH       bool // HASH command (draft-bryan-ftpext-hash)
	HashSHA256 bool // HASH offers SHA-256
	MFMT       bool // set modification time
	REST       bool // REST STREAM: resumable transfers
	UTF8       bool // UTF-8 path names (RFC 2640)
	TLS        bool // AUTH TLS offered
	SIZE       bool // SIZE command
	MDTM       bool // MDTM command
	Batch      bool // SITE BATCH: many uploads over one data connection (syncserver)
	Tree       bool // SITE TREE: a whole tree in one listing (syncserver)
	Expect     bool // SITE EXPECT: conditional changes, checked by the server (syncserver)
	// Greeting is the server's 220 text, which names the software (a
	// caller may trust behaviour it knows of a particular server).
	Greeting string
}

// parseFeat reads a FEAT reply message (as textproto returns it: lines
// joined with "\n", feature lines starting with a space).
func parseFeat(msg string) Caps {
	var c Caps
	for _, line := range strings.Split(msg, "\n") {
		if !strings.HasPrefix(line, " ") {
			continue
		}
		name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(name) {
		case "MLST":
			c.MLSD = true
		case "HASH":
			c.HASH = true
			for _, a := range strings.Split(arg, ";") {
				if strings.EqualFold(strings.TrimSuffix(strings.TrimSpace(a), "*"), "SHA-256") {
					c.HashSHA256 = true
				}
			}
		case "MFMT":
			c.MFMT = true
		case "REST":
			c.REST = strings.EqualFold(strings.TrimSpace(arg), "STREAM")
		case "UTF8":
			c.UTF8 = true
		case "AUTH":
			c.TLS = c.TLS || strings.Contains(strings.ToUpper(arg), "TLS")
		case "SIZE":
			c.SIZE = true
		case "MDTM":
			c.MDTM = true
		case "SITE":
			c.Batch = c.Batch || strings.EqualFold(strings.TrimSpace(arg), "BATCH")
			c.Tree = c.Tree || strings.EqualFold(strings.TrimSpace(arg), "TREE")
			c.Expect = c.Expect || strings.EqualFold(strings.TrimSpace(arg), "EXPECT")
		}
	}
	return c
}
