package vsftpd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/ftpchild"
	"github.com/syncagent/syncagent/internal/testenv"
)

func TestConfigString(t *testing.T) {
	// The benchmark harness's peer: chrooted, a passive range, no limits,
	// logging off.
	got := Config{Port: 2121, PassiveMin: 40000, PassiveMax: 40999, Chroot: true}.String()
	want := `listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=2121
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
chroot_local_user=YES
allow_writeable_chroot=YES
pasv_enable=YES
pasv_min_port=40000
pasv_max_port=40999
seccomp_sandbox=NO
pam_service_name=vsftpd
secure_chroot_dir=/var/run/vsftpd/empty
xferlog_enable=NO
dirmessage_enable=NO
max_clients=0
max_per_ip=0
`
	if got != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}

	got = Config{Port: 21, MaxClients: 64, MaxPerIP: 32, IdleTimeout: 2 * time.Minute, LogFile: "/tmp/x.log", Extra: []string{"isolate=NO"}}.String()
	for _, line := range []string{"max_clients=64", "max_per_ip=32", "idle_session_timeout=120", "xferlog_enable=YES", "vsftpd_log_file=/tmp/x.log", "isolate=NO"} {
		if !strings.Contains(got, "\n"+line+"\n") {
			t.Errorf("config lacks %s:\n%s", line, got)
		}
	}
	for _, line := range []string{"chroot_local_user", "pasv_min_port", "xferlog_enable=NO"} {
		if strings.Contains(got, line) {
			t.Errorf("config has %s:\n%s", line, got)
		}
	}
}

// TestStartGreets runs vsftpd where it is installed and this is root.
func TestStartGreets(t *testing.T) {
	bin, err := Binary()
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	testenv.NeedRoot(t, "vsftpd starts as root")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	s, err := Start(ctx, bin, dir, Config{Extra: []string{"isolate=NO", "isolate_network=NO"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if ftpchild.Greets(s.Addr) {
		t.Errorf("vsftpd still greets on %s after Stop", s.Addr)
	}
	s.Stop()
}
