// Package proftpdtest runs a real ProFTPD for a test: a freshly created
// local system user, chrooted into a home of its own, served on 127.0.0.1
// until the test ends (see package ftpchildtest). It is the test-side
// counterpart of package proftpd. Only tests import it.
package proftpdtest

import (
	"context"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/ftpchild"
	"github.com/syncagent/syncagent/internal/ftpchild/ftpchildtest"
	"github.com/syncagent/syncagent/internal/proftpd"
)

// Server is a running ProFTPD and its one user (see ftpchildtest.Server).
type Server = ftpchildtest.Server

// Start starts ProFTPD for t with Config's settings, changed by each of
// edits in turn, or ends t through testenv.Missing (saying why) when
// ProFTPD is not installed (.ci/peers unpacks it under /opt;
// SYNCAGENT_PROFTPD names another binary) or t does not run as root.
// Everything is undone at cleanup; if t failed, ProFTPD's output and
// system log are logged.
func Start(t testing.TB, edits ...func(*proftpd.Config)) *Server {
	t.Helper()
	return ftpchildtest.Start(t, "proftpd", proftpd.ErrUnavailable, func(ctx context.Context, base string) (*ftpchild.Server, error) {
		bin, err := proftpd.Binary()
		if err != nil {
			return nil, err
		}
		c := Config()
		for _, edit := range edits {
			edit(&c)
		}
		return proftpd.Start(ctx, bin, base, c)
	}, "proftpd.log")
}

// Config is what Start runs: the user chrooted into their home, room for
// the sessions of a few agents, and ProFTPD's own defaults otherwise (LIST
// shows dot files only when the client asks with -a; MLSD shows them).
func Config() proftpd.Config {
	return proftpd.Config{Chroot: true, MaxClients: 64, MaxPerIP: 32, IdleTimeout: 2 * time.Minute}
}
