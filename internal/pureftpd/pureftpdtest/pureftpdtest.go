// Package pureftpdtest runs a real pure-ftpd for a test: a freshly created
// local system user, chrooted into a home of its own, served on 127.0.0.1
// until the test ends (see package ftpchildtest). It is the test-side
// counterpart of package pureftpd. Only tests import it.
package pureftpdtest

import (
	"context"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/ftpchild"
	"github.com/syncagent/syncagent/internal/ftpchild/ftpchildtest"
	"github.com/syncagent/syncagent/internal/pureftpd"
)

// Server is a running pure-ftpd and its one user (see
// ftpchildtest.Server).
type Server = ftpchildtest.Server

// Start starts pure-ftpd for t with Config's settings, changed by each of
// edits in turn, or ends t through testenv.Missing (saying why) when
// pure-ftpd is not installed (.ci/peers unpacks it under /opt;
// SYNCAGENT_PUREFTPD names another binary) or t does not run as root.
// Everything is undone at cleanup; if t failed, pure-ftpd's output is
// logged.
func Start(t testing.TB, edits ...func(*pureftpd.Config)) *Server {
	t.Helper()
	return ftpchildtest.Start(t, "pure-ftpd", pureftpd.ErrUnavailable, func(ctx context.Context, base string) (*ftpchild.Server, error) {
		bin, err := pureftpd.Binary()
		if err != nil {
			return nil, err
		}
		c := Config()
		for _, edit := range edits {
			edit(&c)
		}
		return pureftpd.Start(ctx, bin, base, c)
	})
}

// Config is what Start runs: the user chrooted into their home, room for
// the sessions of a few agents, and pure-ftpd's own defaults otherwise (a
// listing shows dot files only when the client asks with -a).
func Config() pureftpd.Config {
	return pureftpd.Config{Chroot: true, MaxClients: 64, MaxPerIP: 32, IdleTimeout: 2 * time.Minute}
}
