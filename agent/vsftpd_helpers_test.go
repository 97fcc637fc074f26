package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/vsftpd"
)

// vsftpdServer is a real vsftpd on 127.0.0.1, run as a child process with a
// generated config, serving one freshly created local system user who is
// chrooted into Home (so the FTP path "/x" is Home/x on disk).
type vsftpdServer struct {
	Addr     string
	User     string
	Password string
	Home     string
}

// startVsftpd starts vsftpd for the test, or skips it (saying why) when
// vsftpd is not installed (.ci/run installs it; SYNCAGENT_VSFTPD names
// another binary) or the test does not run as root (vsftpd needs root to
// log a system user in). Everything is undone at cleanup: the process
// group is killed and the user removed.
func startVsftpd(t testing.TB) *vsftpdServer {
	t.Helper()
	bin, err := vsftpd.Binary()
	if err != nil {
		t.Skip(err)
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	v := &vsftpdServer{User: "sa" + hex.EncodeToString(suffix), Password: "pw-" + hex.EncodeToString(suffix)}

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
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vsftpd.RemoveUser(v.User) })

	logFile := filepath.Join(base, "vsftpd.log")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv, err := vsftpd.Start(ctx, bin, base, vsftpdConfig(logFile))
	if errors.Is(err, vsftpd.ErrUnavailable) {
		t.Skip(err)
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

// vsftpdConfig is a minimal config: local users only, chrooted into their
// writable homes, dot files listed, times in UTC, passive mode on loopback
// only, no sandboxes that a container may lack, and small limits.
func vsftpdConfig(logFile string) vsftpd.Config {
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

// serverConfig is the agent's view of the vsftpd server.
func (v *vsftpdServer) serverConfig() ServerConfig {
	return ServerConfig{Address: v.Addr, User: v.User, Password: v.Password, TLS: TLSNone, Connections: 2}
}
