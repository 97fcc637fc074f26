// Package vsftpd runs vsftpd, the FTP server Debian ships, on 127.0.0.1
// as a peer to test and measure against: it finds the binary, writes a
// standalone configuration for local system users, and starts vsftpd in
// the foreground and waits until it greets (package ftpchild).
//
// What differs between its users (a chroot, connection limits, a transfer
// log, settings a container needs) are fields of Config; the rest of the
// configuration is fixed. vsftpd logs system users in (package sysuser
// makes them), so Start needs root on Linux; errors that mean "cannot run
// here" wrap ErrUnavailable, so that a test can skip rather than fail.
// Only tests and the benchmark harness import this package.
package vsftpd

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

// ErrUnavailable marks what keeps vsftpd from running here: it is not
// installed, or its secure_chroot_dir cannot be made.
var ErrUnavailable = errors.New("vsftpd unavailable")

// secureChrootDir is the empty directory vsftpd chroots its unprivileged
// helper into; it must exist.
const secureChrootDir = "/var/run/vsftpd/empty"

// Binary returns the vsftpd to run: $SYNCAGENT_VSFTPD when set (for
// example one unpacked with dpkg-deb -x where another FTP server package
// displaced it), else vsftpd on PATH, else /usr/sbin/vsftpd, where the
// Debian package puts it off a normal user's PATH, else /opt/vsftpd's
// (.ci/peers).
func Binary() (string, error) {
	bin, err := ftpchild.Find("SYNCAGENT_VSFTPD", "vsftpd", "/usr/sbin/vsftpd", "/opt/vsftpd/usr/sbin/vsftpd")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return bin, nil
}

// Config is a vsftpd.conf for a standalone server in the foreground on
// 127.0.0.1: local users only, who may write, no anonymous access, passive
// mode, and no seccomp sandbox (which containers and newer kernels break).
type Config struct {
	// Port is the control port.
	Port int
	// PassiveMin and PassiveMax bound the passive data ports; zero leaves
	// the choice to vsftpd.
	PassiveMin, PassiveMax int
	// Chroot locks each user into their home, which may be writable.
	Chroot bool
	// MaxClients and MaxPerIP limit the sessions; zero means no limit.
	MaxClients, MaxPerIP int
	// IdleTimeout ends idle sessions; zero keeps vsftpd's default (300s).
	IdleTimeout time.Duration
	// LogFile receives the transfer log; "" turns logging off.
	LogFile string
	// Extra are further "name=value" lines, written as they are.
	Extra []string
}

// String returns the configuration file's text.
func (c Config) String() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("listen=YES")
	line("listen_ipv6=NO")
	line("listen_address=127.0.0.1")
	line("listen_port=%d", c.Port)
	line("background=NO")
	line("anonymous_enable=NO")
	line("local_enable=YES")
	line("write_enable=YES")
	line("local_umask=022")
	if c.Chroot {
		line("chroot_local_user=YES")
		line("allow_writeable_chroot=YES")
	}
	line("pasv_enable=YES")
	if c.PassiveMin > 0 {
		line("pasv_min_port=%d", c.PassiveMin)
		line("pasv_max_port=%d", c.PassiveMax)
	}
	line("seccomp_sandbox=NO")
	line("pam_service_name=vsftpd")
	line("secure_chroot_dir=%s", secureChrootDir)
	if c.LogFile != "" {
		line("xferlog_enable=YES")
		line("vsftpd_log_file=%s", c.LogFile)
	} else {
		line("xferlog_enable=NO")
	}
	line("dirmessage_enable=NO")
	line("max_clients=%d", c.MaxClients)
	line("max_per_ip=%d", c.MaxPerIP)
	if c.IdleTimeout > 0 {
		line("idle_session_timeout=%d", int(c.IdleTimeout.Seconds()))
	}
	for _, l := range c.Extra {
		line("%s", l)
	}
	return b.String()
}

// WriteFile writes the configuration to path and makes the empty
// directory it names as vsftpd's secure_chroot_dir.
func (c Config) WriteFile(path string) error {
	if err := os.MkdirAll(secureChrootDir, 0o755); err != nil {
		return fmt.Errorf("%w: secure_chroot_dir: %v", ErrUnavailable, err)
	}
	return os.WriteFile(path, []byte(c.String()), 0o600)
}

// Server is vsftpd running as a child process (see ftpchild.Server).
type Server = ftpchild.Server

// Start writes c to dir/vsftpd.conf (on a free port when c.Port is zero),
// runs bin on it with its output in dir/output, and waits until it answers
// with a 220 greeting, it exits, or ctx ends; on failure it is stopped and
// the error carries what it wrote.
func Start(ctx context.Context, bin, dir string, c Config) (*Server, error) {
	var addr string
	var err error
	if c.Port, addr, err = ftpchild.Port(c.Port); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "vsftpd.conf")
	if err := c.WriteFile(conf); err != nil {
		return nil, err
	}
	return ftpchild.Start(ctx, "vsftpd", dir, addr, exec.Command(bin, conf))
}
