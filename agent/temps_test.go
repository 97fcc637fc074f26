package agent

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/testproxy"
)

// TestStaleTempsRemovedOnEveryServer: temporaries a killed agent left, at
// the top and in subfolders, are removed by the next pass once older than
// the stale age, on every server (vsftpd as Debian ships it lists them
// only to LIST -a), so that a folder holding one can be deleted and the
// pass succeeds; a young one stays.
func TestStaleTempsRemovedOnEveryServer(t *testing.T) {
	for _, srv := range hidingServers {
		if srv.name == "vsftpd-hiding" {
			continue // lists no temporary: see TestSIGTERMLeavesNoTemporary
		}
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t)
			local := t.TempDir()
			putFile(t, filepath.Join(local, "a.txt"), "a")
			putFile(t, filepath.Join(local, "sub/deeper/b.txt"), "b")
			cfg := s.folderConfig(t, local, "/st", ModePush)
			cfg.StaleTempAge = time.Hour
			a, _ := syncRetryAgent(t, cfg, 1)
			ctx := context.Background()
			if err := a.Sync(ctx, "", false, io.Discard); err != nil {
				t.Fatal(err)
			}
			// Debris of a killed agent at the top and in subfolders, one of
			// them deleted locally since; and a young temporary, which may
			// be an upload in progress elsewhere.
			stale := []string{"st/.syncagent-deadbeefdeadbee1", "st/sub/.syncagent-deadbeefdeadbee2", "st/sub/deeper/.syncagent-deadbeefdeadbee3"}
			old := time.Now().Add(-2 * time.Hour)
			for _, rel := range stale {
				s.putRemote(t, rel, "half an upload of a killed agent")
				if err := os.Chtimes(filepath.Join(s.Home, rel), old, old); err != nil {
					t.Fatal(err)
				}
			}
			young := "st/.syncagent-0123456789abcdef"
			s.putRemote(t, young, "an upload in progress elsewhere")
			if err := os.RemoveAll(filepath.Join(local, "sub")); err != nil {
				t.Fatal(err)
			}
			if err := a.Sync(ctx, "", false, io.Discard); err != nil {
				t.Fatalf("pass with stale temporaries: %v", err)
			}
			for _, rel := range append(stale, "st/sub") {
				if _, err := os.Stat(filepath.Join(s.Home, rel)); !os.IsNotExist(err) {
					t.Errorf("%s still there (%v)", rel, err)
				}
			}
			if _, err := os.Stat(filepath.Join(s.Home, young)); err != nil {
				t.Errorf("young temporary removed: %v", err)
			}
		})
	}
}

// TestSIGTERMLeavesNoTemporary: a real agent process stopped with SIGTERM
// in the middle of uploads aborts them and deletes their temporaries
// before it exits, on every server (even one whose listings hide them):
// one large file, and many small ones that travel in batches. The next
// start could not resume them, and a pass would see them as debris only
// once stale, or never where the server hides them. The uploads are
// paused mid-way by a proxy holding every byte, so the signal always lands
// during them.
func TestSIGTERMLeavesNoTemporary(t *testing.T) {
	for _, srv := range hidingServers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t)
			for _, c := range []struct {
				name  string
				files int
				size  int64
			}{{"large", 1, 96 << 20}, {"batched", 160, 600 << 10}} {
				t.Run(c.name, func(t *testing.T) {
					local := t.TempDir()
					for i := range c.files {
						writeRandom(t, filepath.Join(local, fmt.Sprintf("f%03d.bin", i)), c.size)
					}
					total := int64(c.files) * c.size
					p := testproxy.New(t, s.Addr, nil)
					proc := newAgentProcFor(t, s, p.Addr(), local, "/term-"+c.name)
					proc.start()
					e2eWaitFor(t, "the upload to be under way", func() bool {
						if proc.exited() {
							t.Fatalf("the agent exited:\n%s", proc.logs())
						}
						return p.Sent() >= total/8
					})
					p.Hold(2 * time.Second)
					if p.Sent() >= total {
						t.Fatal("the upload was over before it could be paused; send more")
					}
					proc.stop()
					remoteDir := filepath.Join(s.Home, "term-"+c.name)
					if tmp := temps(remoteDir); len(tmp) > 0 {
						t.Fatalf("temporaries left on the server after SIGTERM: %v\n%s", tmp, proc.logs())
					}
					if got := tree(t, remoteDir); len(got) >= c.files {
						t.Fatalf("all %d files arrived: the signal did not interrupt the upload", len(got))
					}
				})
			}
		})
	}
}

// newAgentProcFor is newAgentProc for the server s, dialled at addr: one
// push folder syncing local with remote.
func newAgentProcFor(t testing.TB, s ftpTarget, addr, local, remote string) *agentProc {
	t.Helper()
	dir := t.TempDir()
	p := &agentProc{t: t, bin: syncagentBinary(t), config: filepath.Join(dir, "agent.yaml"), state: filepath.Join(dir, "state.db")}
	y := fmt.Sprintf(`state: %q
status_listen: ""
servers:
  srv: {address: %q, user: %q, password: %q, connections: 2, tls: none}
folders:
  - {name: f, path: %q, server: srv, remote: %q, mode: push, debounce: 20ms, poll: 300ms}
`, p.state, addr, s.User, s.Password, local, remote)
	if err := os.WriteFile(p.config, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop() })
	return p
}

// exited reports whether the agent process has ended by itself.
func (p *agentProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
