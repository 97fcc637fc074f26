package pureftpd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/ftpchild/ftpchildtest"
	"github.com/syncagent/syncagent/internal/pureftpd"
	"github.com/syncagent/syncagent/internal/pureftpd/pureftpdtest"
)

func TestArgs(t *testing.T) {
	got := strings.Join(pureftpd.Config{Port: 2121, PassiveMin: 30000, PassiveMax: 30999, Chroot: true,
		MaxClients: 64, MaxPerIP: 32, IdleTimeout: 2 * time.Minute, Extra: []string{"-D"}}.Args("/run/x"), " ")
	want := "-S 127.0.0.1,2121 -4 -H -l unix -E -g /run/x/pure-ftpd.pid -A -p 30000:30999 -c 64 -C 32 -I 2 -D"
	if got != want {
		t.Errorf("args:\n%s\nwant:\n%s", got, want)
	}
	if got := strings.Join(pureftpd.Config{Port: 21}.Args("/d"), " "); got != "-S 127.0.0.1,21 -4 -H -l unix -E -g /d/pure-ftpd.pid" {
		t.Errorf("args of a bare config: %s", got)
	}
}

// TestServesItsUser logs the test user in with a real client, stores a
// file, finds it on disk, and lists it.
func TestServesItsUser(t *testing.T) {
	ftpchildtest.CheckServes(t, pureftpdtest.Start(t))
}
