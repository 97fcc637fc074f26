// Package vsftpdtest runs a real vsftpd for a test: a freshly created local
// system user, chrooted into a home of its own, served on 127.0.0.1 until
// the test ends (see package ftpchildtest). It is the test-side
// counterpart of package vsftpd, shared by every package whose tests talk
// to vsftpd. Only tests import it.
package vsftpdtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/ftpchild"
	"github.com/syncagent/syncagent/internal/ftpchild/ftpchildtest"
	"github.com/syncagent/syncagent/internal/vsftpd"
)

// Server is a running vsftpd and its one user (see ftpchildtest.Server).
type Server = ftpchildtest.Server

// Start starts vsftpd for t with Config's settings, changed by each of
// edits in turn, or ends t through testenv.Missing (saying why) when
// vsftpd is not installed (.ci/run installs it; SYNCAGENT_VSFTPD names
// another binary) or t does not run as root (vsftpd needs root to log a
// system user in). Everything is undone at cleanup; if t failed, vsftpd's
// output and log are logged.
func Start(t testing.TB, edits ...func(*vsftpd.Config)) *Server {
	t.Helper()
	return ftpchildtest.Start(t, "vsftpd", vsftpd.ErrUnavailable, func(ctx context.Context, base string) (*ftpchild.Server, error) {
		bin, err := vsftpd.Binary()
		if err != nil {
			return nil, err
		}
		c := Config(filepath.Join(base, "vsftpd.log"))
		for _, edit := range edits {
			edit(&c)
		}
		return vsftpd.Start(ctx, bin, base, c)
	}, "vsftpd.log")
}

// Config is what Start runs: local users only, chrooted into their
// writable homes, dot files listed, times in UTC, passive mode on loopback
// only, no sandboxes that a container may lack, small limits, and the
// transfer log in logFile.
func Config(logFile string) vsftpd.Config {
	return vsftpd.Config{
		Chroot:      true,
		MaxClients:  64,
		MaxPerIP:    32,
		IdleTimeout: 120 * time.Second,
		LogFile:     logFile,
		Extra: []string{
			"check_shell=NO", "userlist_enable=NO", "force_dot_files=YES", "use_localtime=NO",
			"pasv_address=127.0.0.1", "port_enable=NO",
			"isolate=NO", "isolate_network=NO", "dual_log_enable=NO",
		},
	}
}
