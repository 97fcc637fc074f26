// Package vsftpdtest runs a real vsftpd for a test: a freshly created local
// system user, chrooted into a home of its own, served on 127.0.0.1 until
// the test ends. It is the test-side counterpart of package vsftpd, shared
// by every package whose tests talk to vsftpd. Only tests import it.
package vsftpdtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/testenv"
	"github.com/syncagent/syncagent/internal/vsftpd"
)

// Server is a running vsftpd and its one user, who sees Home as "/" (the
// FTP path "/x" is Home/x on disk). Its fields are read-only.
type Server struct {
	Addr     string
	User     string
	Password string
	Home     string
}

// Start starts vsftpd for t with Config's settings, or ends t through
// testenv.Missing (saying why) when vsftpd is not installed (.ci/run
// installs it; SYNCAGENT_VSFTPD names another binary) or t does not run as
// root (vsftpd needs root to log a system user in). Everything is undone
// at cleanup: the process group is killed and the user removed; if t
// failed, vsftpd's output and log are logged.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := vsftpd.Binary()
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	v := &Server{User: "sa" + hex.EncodeToString(suffix), Password: "pw-" + hex.EncodeToString(suffix)}

	// t.TempDir is private to root (0700 parents); the user needs a home it
	// can reach, so it lives directly under the system temp directory.
	base, err := os.MkdirTemp("", "vsftpd-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	v.Home = filepath.Join(base, "home")
	if err := os.Mkdir(v.Home, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := vsftpd.AddUser(v.User, v.Password, v.Home); errors.Is(err, vsftpd.ErrUnavailable) {
		testenv.Missing(t, "%v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vsftpd.RemoveUser(v.User) })

	logFile := filepath.Join(base, "vsftpd.log")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv, err := vsftpd.Start(ctx, bin, base, Config(logFile))
	if errors.Is(err, vsftpd.ErrUnavailable) {
		testenv.Missing(t, "%v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	v.Addr = srv.Addr
	t.Cleanup(func() {
		srv.Stop()
		if t.Failed() {
			t.Logf("vsftpd output:\n%s", srv.Output())
			if b, err := os.ReadFile(logFile); err == nil && len(b) > 0 {
				t.Logf("vsftpd log:\n%s", b)
			}
		}
	})
	return v
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
