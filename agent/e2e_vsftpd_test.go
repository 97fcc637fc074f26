package agent

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/testproxy"
)

// vsftpdPushConfig syncs local with /mirror on v (which has no MLSD,
// HASH or MFMT: listings come from LIST, uploads are checked with SIZE).
func vsftpdPushConfig(t testing.TB, v *vsftpdServer, address, local string) Config {
	cfg := DefaultConfig()
	cfg.State = filepath.Join(t.TempDir(), "state.db")
	cfg.StatusListen = ""
	sc := v.serverConfig()
	sc.Address = address
	sc.OpTimeout = 2 * time.Second
	cfg.Servers = map[string]ServerConfig{"vsftpd": sc}
	cfg.Folders = []FolderConfig{{Name: "f", Path: local, Server: "vsftpd", Remote: "/mirror", Mode: ModePush,
		Debounce: config.Duration(20 * time.Millisecond), Poll: config.Duration(300 * time.Millisecond),
		Rescan: config.Duration(time.Hour), MaxDelete: "50%"}}
	return cfg
}

func TestE2EPushToVsftpd(t *testing.T) {
	v := startVsftpd(t)
	local := t.TempDir()
	remote := filepath.Join(v.Home, "mirror")
	want := writeRandom(t, filepath.Join(local, "large.bin"), 24<<20)
	putFile(t, filepath.Join(local, "with space/ünï.txt"), "unicode")
	putFile(t, filepath.Join(local, "empty"), "")
	for i := range 30 {
		putFile(t, filepath.Join(local, "many", string(rune('a'+i%26))+string(rune('0'+i/26))), "x")
	}
	// The first attempt at the large file dies half way (a killed
	// upload); the agent must converge anyway, without debris.
	p := testproxy.New(t, v.Addr, nil)
	p.CutAfter(6 << 20)
	cfg := vsftpdPushConfig(t, v, p.Addr(), local)
	_, stop := e2eStartAgent(t, cfg)
	waitMirror(t, local, remote, ".syncagent-*")
	if got := fileSHA(t, filepath.Join(remote, "large.bin")); got != want {
		t.Fatal("large file differs on vsftpd")
	}
	putFile(t, filepath.Join(local, "empty"), "no longer empty")
	writeRandom(t, filepath.Join(local, "large.bin"), 5<<20)
	putFile(t, filepath.Join(local, "many/a0"), "edited")
	waitMirror(t, local, remote, ".syncagent-*")
	// A cut can leave a temporary the running agent lost track of (see
	// the report); the next start removes every stale one.
	if tmp := temps(remote); len(tmp) > 0 {
		t.Logf("temporaries left while running: %v", tmp)
	}
	stop()
	cfg.StaleTempAge = time.Nanosecond
	e2eStartAgent(t, cfg)
	e2eWaitFor(t, "stale temporaries to be removed at start", func() bool { return len(temps(remote)) == 0 })
	waitMirror(t, local, remote)
}
