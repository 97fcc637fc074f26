package agent

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/ftpchild/ftpchildtest"
	"github.com/syncagent/syncagent/internal/proftpd"
	"github.com/syncagent/syncagent/internal/proftpd/proftpdtest"
	"github.com/syncagent/syncagent/internal/pureftpd"
	"github.com/syncagent/syncagent/internal/pureftpd/pureftpdtest"
)

// ftpTarget is a real FTP server a test syncs with: syncserver or one of
// the peers (vsftpd, pure-ftpd, ProFTPD), with its one user, who sees Home
// as "/" (the FTP path "/x" is Home/x on disk).
type ftpTarget struct {
	Name     string // "syncserver", "vsftpd", "pure-ftpd" or "proftpd"
	Addr     string
	User     string
	Password string
	Home     string
}

// serverConfig is the agent's view of the server.
func (s ftpTarget) serverConfig() ServerConfig {
	return ServerConfig{Address: s.Addr, User: s.User, Password: s.Password, TLS: TLSNone, Connections: 2}
}

// folderConfig returns a config syncing local with remote on s in mode,
// polling every 300ms, with state in a temporary directory.
func (s ftpTarget) folderConfig(t testing.TB, local, remote, mode string) Config {
	cfg := DefaultConfig()
	cfg.State = filepath.Join(t.TempDir(), "state.db")
	cfg.StatusListen = ""
	sc := s.serverConfig()
	sc.OpTimeout = 5 * time.Second
	cfg.Servers = map[string]ServerConfig{s.Name: sc}
	cfg.Folders = []FolderConfig{{Name: "f", Path: local, Server: s.Name, Remote: remote, Mode: mode,
		Debounce: config.Duration(20 * time.Millisecond), Poll: config.Duration(300 * time.Millisecond),
		Rescan: config.Duration(time.Hour), MaxDelete: "50%"}}
	return cfg
}

// peerTarget is the ftpTarget of the peer server name's user.
func peerTarget(name string, s *ftpchildtest.Server) ftpTarget {
	return ftpTarget{Name: name, Addr: s.Addr, User: s.User, Password: s.Password, Home: s.Home}
}

// startPureFTPd starts pure-ftpd for the test, or ends it through
// testenv.Missing (see pureftpdtest.Start).
func startPureFTPd(t testing.TB, edits ...func(*pureftpd.Config)) ftpTarget {
	t.Helper()
	return peerTarget("pure-ftpd", pureftpdtest.Start(t, edits...))
}

// startProFTPD starts ProFTPD for the test, or ends it through
// testenv.Missing (see proftpdtest.Start).
func startProFTPD(t testing.TB, edits ...func(*proftpd.Config)) ftpTarget {
	t.Helper()
	return peerTarget("proftpd", proftpdtest.Start(t, edits...))
}

// target is the ftpTarget of the vsftpd server.
func (v *vsftpdServer) target() ftpTarget { return peerTarget("vsftpd", v.Server) }

// target is the ftpTarget of the syncserver's user "agent".
func (s *e2eServer) target() ftpTarget {
	return ftpTarget{Name: "syncserver", Addr: s.Addr, User: "agent", Password: e2ePassword, Home: s.Home}
}

// allServers are the servers forEachServer runs a test against, each
// started fresh for it.
var allServers = []struct {
	name  string
	start func(testing.TB) ftpTarget
}{
	{"syncserver", func(t testing.TB) ftpTarget { return startE2EServer(t).target() }},
	{"vsftpd", func(t testing.TB) ftpTarget { return startVsftpd(t).target() }},
	{"pure-ftpd", func(t testing.TB) ftpTarget { return startPureFTPd(t) }},
	{"proftpd", func(t testing.TB) ftpTarget { return startProFTPD(t) }},
}

// forEachServer runs f as a subtest against each of allServers, in turn.
// A peer that cannot run here ends its subtest through testenv.Missing.
func forEachServer(t *testing.T, f func(t *testing.T, s ftpTarget)) {
	t.Helper()
	for _, srv := range allServers {
		t.Run(srv.name, func(t *testing.T) { f(t, srv.start(t)) })
	}
}

// putRemote writes content to the server's file rel (a slash path under
// Home), as another client would have, owned like Home so that the
// server's user may change and delete it (a peer's user is a system user;
// the test runs as root).
func (s ftpTarget) putRemote(t testing.TB, rel, content string) {
	t.Helper()
	p := filepath.Join(s.Home, filepath.FromSlash(rel))
	putFile(t, p, content)
	first, _, _ := strings.Cut(rel, "/")
	if out, err := exec.Command("chown", "-R", "--reference="+s.Home, filepath.Join(s.Home, first)).CombinedOutput(); err != nil {
		t.Fatalf("chown %s: %v: %s", rel, err, out)
	}
}
