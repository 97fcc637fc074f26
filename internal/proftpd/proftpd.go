// Package proftpd runs ProFTPD on 127.0.0.1 as a peer to test and measure
// against: it finds the binary and its modules, writes a standalone
// configuration for local system users, and starts it in the foreground
// (-n) and waits until it greets (package ftpchild).
//
// Users are checked against the system's password database directly
// (mod_auth_unix), without PAM; no ident or DNS lookups are made; the
// scoreboard, pid file and system log live in the server's own directory,
// so that any number of servers can run at once. ProFTPD logs system users
// in (package sysuser makes them), so Start needs root; errors that mean
// "cannot run here" wrap ErrUnavailable, so that a test can skip rather
// than fail. Only tests and the benchmark harness import it.
package proftpd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/syncagent/syncagent/internal/ftpchild"
)

// ErrUnavailable marks what keeps ProFTPD from running here: it is not
// installed.
var ErrUnavailable = errors.New("proftpd unavailable")

// Binary returns the proftpd to run: $SYNCAGENT_PROFTPD when set, else
// proftpd on PATH, else /usr/sbin/proftpd (the Debian package), else
// /opt/proftpd's (.ci/peers unpacks it there beside vsftpd and pure-ftpd,
// whose packages conflict with it).
func Binary() (string, error) {
	bin, err := ftpchild.Find("SYNCAGENT_PROFTPD", "proftpd", "/usr/sbin/proftpd", "/opt/proftpd/usr/sbin/proftpd")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return bin, nil
}

// ModulePath returns where the modules of the proftpd at bin are: for
// PREFIX/sbin/proftpd, PREFIX/lib/proftpd.
func ModulePath(bin string) string {
	return filepath.Join(filepath.Dir(filepath.Dir(bin)), "lib", "proftpd")
}

// Config is a proftpd.conf for a standalone server on 127.0.0.1, IPv4
// only: system users only, who may write and overwrite, no anonymous
// access, no ident or reverse DNS lookups, no wtmp or transfer log.
type Config struct {
	// Port is the control port.
	Port int
	// Dir holds the scoreboard, the pid file and the system log.
	Dir string
	// ModulePath is where the shared modules are (see ModulePath).
	ModulePath string
	// PassiveMin and PassiveMax bound the passive data ports; zero leaves
	// the choice to ProFTPD.
	PassiveMin, PassiveMax int
	// Chroot locks each user into their home (DefaultRoot ~).
	Chroot bool
	// MaxClients and MaxPerIP limit the sessions; zero means no limit.
	MaxClients, MaxPerIP int
	// IdleTimeout ends idle sessions; zero keeps ProFTPD's default (600s).
	IdleTimeout time.Duration
	// Extra are further configuration lines, written as they are.
	Extra []string
}

// String returns the configuration file's text.
func (c Config) String() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line(`ServerName "syncagent test peer"`)
	line("ServerType standalone")
	line("DefaultAddress 127.0.0.1")
	line("SocketBindTight on")
	line("UseIPv6 off")
	line("Port %d", c.Port)
	if c.ModulePath != "" {
		line("ModulePath %s", c.ModulePath)
	}
	line("ScoreboardFile %s", filepath.Join(c.Dir, "proftpd.scoreboard"))
	line("PidFile %s", filepath.Join(c.Dir, "proftpd.pid"))
	line("SystemLog %s", filepath.Join(c.Dir, "proftpd.log"))
	line("DelayEngine off")
	line("WtmpLog off")
	line("TransferLog none")
	line("UseReverseDNS off")
	line("AuthOrder mod_auth_unix.c")
	line("RequireValidShell off")
	line("Umask 022")
	line("AllowOverwrite on")
	if c.Chroot {
		line("DefaultRoot ~")
	}
	if c.PassiveMin > 0 {
		line("PassivePorts %d %d", c.PassiveMin, c.PassiveMax)
	}
	if c.MaxClients > 0 {
		line("MaxInstances %d", c.MaxClients)
	}
	if c.MaxPerIP > 0 {
		line("MaxClientsPerHost %d", c.MaxPerIP)
	}
	if c.IdleTimeout > 0 {
		line("TimeoutIdle %d", max(1, int(c.IdleTimeout.Seconds())))
	}
	for _, l := range c.Extra {
		line("%s", l)
	}
	return b.String()
}

// Server is ProFTPD running as a child process (see ftpchild.Server).
type Server = ftpchild.Server

// Start writes c to dir/proftpd.conf (on a free port when c.Port is zero,
// with dir as c.Dir when that is "", and bin's modules when c.ModulePath
// is ""), runs bin on it in the foreground with its output in dir/output,
// and waits until it answers with a 220 greeting, it exits, or ctx ends;
// on failure it is stopped and the error carries what it wrote.
func Start(ctx context.Context, bin, dir string, c Config) (*Server, error) {
	var addr string
	var err error
	if c.Port, addr, err = ftpchild.Port(c.Port); err != nil {
		return nil, err
	}
	if c.Dir == "" {
		c.Dir = dir
	}
	if c.ModulePath == "" {
		c.ModulePath = ModulePath(bin)
	}
	conf := filepath.Join(dir, "proftpd.conf")
	if err := os.WriteFile(conf, []byte(c.String()), 0o600); err != nil {
		return nil, err
	}
	return ftpchild.Start(ctx, "proftpd", dir, addr, exec.Command(bin, "-n", "-c", conf))
}
