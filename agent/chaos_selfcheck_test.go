package agent

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/server"
)

// TestChaosCheckerCatchesLoss proves that the chaos invariants can fail: a
// checker that passes everything would make TestChaos worthless. A push
// agent overwrites a content another FTP user wrote to the remote folder,
// as push must; the overwritten content survives only as a server version.
// With versions disabled (keep: 0) that is a real loss, and chaosInvariants
// must report it; with versions kept, the same run must pass. The control
// run then checks that the other two invariants (content no user wrote, a
// staged upload left on the server) are reported too.
func TestChaosCheckerCatchesLoss(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep int
	}{{"versions off", 0}, {"versions kept", 1000}} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServerKeeping(t, tc.keep)
			local := t.TempDir()
			rdir := filepath.Join(s.Home, "remote")
			w := &chaosWorld{known: map[string]string{}, protected: map[string]map[string]string{"local": {}, "remote": {}}}

			mine := []byte("selfcheck: the local user's a.txt\n")
			putFile(t, filepath.Join(local, "a.txt"), string(mine))
			w.wrote("local", "a.txt", mine)
			cfg := agentConfig(t, s, local, ModePush)
			_, stop := e2eStartAgent(t, cfg)
			waitMirror(t, local, rdir)

			theirs := []byte("selfcheck: another FTP user's a.txt\n")
			storeRemote(t, s.Addr, "/remote/a.txt", theirs)
			w.wrote("remote", "a.txt", theirs)
			e2eWaitFor(t, "the push agent to overwrite the remote-only change", func() bool {
				b, err := os.ReadFile(filepath.Join(rdir, "a.txt"))
				return err == nil && bytes.Equal(b, mine)
			})
			stop()
			files := waitConverged(t, local, rdir, 30*time.Second)

			err := chaosInvariants(t, s, w, files)
			if tc.keep == 0 {
				if err == nil || !strings.Contains(err.Error(), "lost: the content remote user wrote to a.txt") {
					t.Fatalf("the checker did not report the overwritten remote content as lost; got %v", err)
				}
				t.Logf("the checker reported, as it must: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("with versions kept nothing is lost, yet the checker reported: %v", err)
			}

			// Content nobody wrote (a torn file) must be reported.
			torn := map[string]string{"a.txt": files["a.txt"], "torn.txt": sum([]byte("half of something"))}
			if err := chaosInvariants(t, s, w, torn); err == nil || !strings.Contains(err.Error(), "torn.txt holds content no user wrote") {
				t.Errorf("the checker did not report a file with unknown content; got %v", err)
			}
			// An upload left in the server's staging area must be reported.
			putFile(t, filepath.Join(s.root, ".syncserver", "tmp", "left-behind"), "x")
			if err := chaosInvariants(t, s, w, files); err == nil || !strings.Contains(err.Error(), "staging area still holds left-behind") {
				t.Errorf("the checker did not report a staged upload left behind; got %v", err)
			}
		})
	}
}

// startServerKeeping is startE2EServer keeping keep old versions per file
// (0: none).
func startServerKeeping(t testing.TB, keep int) *e2eServer {
	t.Helper()
	return startE2EServer(t, func(cfg *server.Config) {
		cfg.Versions = server.VersionsConfig{Keep: keep, MaxAge: config.Duration(1000 * time.Hour)}
	})
}

// storeRemote writes b to p on the server as a plain FTP client would.
func storeRemote(t testing.TB, addr, p string, b []byte) {
	t.Helper()
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("agent", e2ePassword); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor(p, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
}
