// Package pureftpd runs pure-ftpd on 127.0.0.1 as a peer to test and
// measure against: it finds the binary, turns a Config into the command
// line of a standalone server for local system users (pure-ftpd takes its
// settings as flags, not a file), and starts it in the foreground and waits
// until it greets (package ftpchild).
//
// Users are checked against the system's password database directly (-l
// unix), without PAM, so no PAM service file is needed; package sysuser
// makes them. pure-ftpd logs system users in, so Start needs root; errors
// that mean "cannot run here" wrap ErrUnavailable, so that a test can skip
// rather than fail. Only tests and the benchmark harness import it.
package pureftpd

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/syncagent/syncagent/internal/ftpchild"
)

// ErrUnavailable marks what keeps pure-ftpd from running here: it is not
// installed.
var ErrUnavailable = errors.New("pure-ftpd unavailable")

// Binary returns the pure-ftpd to run: $SYNCAGENT_PUREFTPD when set, else
// pure-ftpd on PATH, else /usr/sbin/pure-ftpd (the Debian package), else
// /opt/pure-ftpd's (.ci/peers unpacks it there beside vsftpd and ProFTPD,
// whose packages conflict with it).
func Binary() (string, error) {
	bin, err := ftpchild.Find("SYNCAGENT_PUREFTPD", "pure-ftpd", "/usr/sbin/pure-ftpd", "/opt/pure-ftpd/usr/sbin/pure-ftpd")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return bin, nil
}

// Config is a standalone pure-ftpd in the foreground on 127.0.0.1, IPv4
// only, without DNS lookups: system users only, who may write, no
// anonymous access.
type Config struct {
	// Port is the control port.
	Port int
	// PassiveMin and PassiveMax bound the passive data ports; zero leaves
	// the choice to pure-ftpd.
	PassiveMin, PassiveMax int
	// Chroot locks each user into their home.
	Chroot bool
	// MaxClients and MaxPerIP limit the sessions; zero keeps pure-ftpd's
	// defaults (50 and no limit per address).
	MaxClients, MaxPerIP int
	// IdleTimeout ends idle sessions, in whole minutes; zero keeps
	// pure-ftpd's default (15 minutes).
	IdleTimeout time.Duration
	// Extra are further command-line flags, passed as they are.
	Extra []string
}

// Args returns the command line (without the program) for a server that
// keeps its pid file in dir.
func (c Config) Args(dir string) []string {
	args := []string{
		"-S", "127.0.0.1," + strconv.Itoa(c.Port), "-4", "-H",
		"-l", "unix", "-E",
		"-g", filepath.Join(dir, "pure-ftpd.pid"),
	}
	if c.Chroot {
		args = append(args, "-A")
	}
	if c.PassiveMin > 0 {
		args = append(args, "-p", fmt.Sprintf("%d:%d", c.PassiveMin, c.PassiveMax))
	}
	if c.MaxClients > 0 {
		args = append(args, "-c", strconv.Itoa(c.MaxClients))
	}
	if c.MaxPerIP > 0 {
		args = append(args, "-C", strconv.Itoa(c.MaxPerIP))
	}
	if c.IdleTimeout > 0 {
		args = append(args, "-I", strconv.Itoa(max(1, int(c.IdleTimeout.Minutes()))))
	}
	return append(args, c.Extra...)
}

// Server is pure-ftpd running as a child process (see ftpchild.Server).
type Server = ftpchild.Server

// Start runs bin with c (on a free port when c.Port is zero), its pid
// file and output in dir, and waits until it answers with a 220 greeting,
// it exits, or ctx ends; on failure it is stopped and the error carries
// what it wrote.
func Start(ctx context.Context, bin, dir string, c Config) (*Server, error) {
	var addr string
	var err error
	if c.Port, addr, err = ftpchild.Port(c.Port); err != nil {
		return nil, err
	}
	return ftpchild.Start(ctx, "pure-ftpd", dir, addr, exec.Command(bin, c.Args(dir)...))
}
