package proftpd_test

import (
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/ftpchild/ftpchildtest"
	"github.com/syncagent/syncagent/internal/proftpd"
	"github.com/syncagent/syncagent/internal/proftpd/proftpdtest"
)

func TestConfigString(t *testing.T) {
	got := proftpd.Config{Port: 2121, Dir: "/run/x", ModulePath: "/usr/lib/proftpd", PassiveMin: 30000, PassiveMax: 30999,
		Chroot: true, MaxClients: 64, MaxPerIP: 32, IdleTimeout: 2 * time.Minute, Extra: []string{"ListOptions -a"}}.String()
	want := `ServerName "syncagent test peer"
ServerType standalone
DefaultAddress 127.0.0.1
SocketBindTight on
UseIPv6 off
Port 2121
ModulePath /usr/lib/proftpd
ScoreboardFile /run/x/proftpd.scoreboard
PidFile /run/x/proftpd.pid
SystemLog /run/x/proftpd.log
DelayEngine off
WtmpLog off
TransferLog none
UseReverseDNS off
AuthOrder mod_auth_unix.c
RequireValidShell off
Umask 022
AllowOverwrite on
DefaultRoot ~
PassivePorts 30000 30999
MaxInstances 64
MaxClientsPerHost 32
TimeoutIdle 120
ListOptions -a
`
	if got != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	if got := proftpd.ModulePath("/opt/proftpd/usr/sbin/proftpd"); got != "/opt/proftpd/usr/lib/proftpd" {
		t.Errorf("ModulePath: %s", got)
	}
}

// TestServesItsUser logs the test user in with a real client, stores a
// file, finds it on disk, and lists it.
func TestServesItsUser(t *testing.T) {
	ftpchildtest.CheckServes(t, proftpdtest.Start(t))
}
