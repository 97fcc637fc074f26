package agent

import (
	"testing"

	"github.com/syncagent/syncagent/internal/vsftpd"
	"github.com/syncagent/syncagent/internal/vsftpd/vsftpdtest"
)

// vsftpdServer is a real vsftpd on 127.0.0.1 serving one freshly created
// local system user, chrooted into Home (see package vsftpdtest).
type vsftpdServer struct{ *vsftpdtest.Server }

// startVsftpd starts vsftpd for the test (see vsftpdtest.Start), with
// vsftpdtest.Config changed by each of edits.
func startVsftpd(t testing.TB, edits ...func(*vsftpd.Config)) *vsftpdServer {
	t.Helper()
	return &vsftpdServer{vsftpdtest.Start(t, edits...)}
}

// serverConfig is the agent's view of the vsftpd server.
func (v *vsftpdServer) serverConfig() ServerConfig { return v.target().serverConfig() }
