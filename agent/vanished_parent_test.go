package agent

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/syncagent/syncagent/agent/status"
	"github.com/syncagent/syncagent/internal/config"
)

// TestEditInsideRenamedRemoteFolder: another client renames a remote
// folder while a local edit inside it waits to be uploaded. The running
// agent (no poll due, no restart) must plan the path again from what the
// server now holds instead of retrying the upload into the vanished
// folder: the sides converge, the edit survives, and the renamed folder
// arrives locally.
func TestEditInsideRenamedRemoteFolder(t *testing.T) {
	forEachServer(t, func(t *testing.T, s ftpTarget) {
		for _, mode := range []string{ModeTwoWay, ModePush} {
			t.Run(mode, func(t *testing.T) {
				local := t.TempDir()
				putFile(t, filepath.Join(local, "proj/a.txt"), "first")
				putFile(t, filepath.Join(local, "proj/sub/b.txt"), "bee")
				rdir := "ren-" + mode
				cfg := s.folderConfig(t, local, "/"+rdir, mode)
				cfg.Folders[0].Poll = config.Duration(time.Hour) // only the watcher and retries act
				e2eStartAgent(t, cfg)
				remoteDir := filepath.Join(s.Home, rdir)
				waitSame(t, local, remoteDir)

				if err := os.Rename(filepath.Join(remoteDir, "proj"), filepath.Join(remoteDir, "proj-renamed")); err != nil {
					t.Fatal(err)
				}
				putFile(t, filepath.Join(local, "proj/a.txt"), "edited locally after the rename")

				want := func() bool {
					b, err := os.ReadFile(filepath.Join(remoteDir, "proj/a.txt"))
					return err == nil && string(b) == "edited locally after the rename"
				}
				e2eWaitFor(t, "the edit to reach the server", want)
				if mode == ModeTwoWay {
					waitSame(t, local, remoteDir)
				}
			})
		}
	})
}

// TestDownloadFromRenamedRemoteFolder: a download planned from a listing
// that predates another client's rename of its remote folder fails (550);
// the path is then shown in status and planned again from a fresh
// listing, so the next pass, even one the watcher scoped to the old
// folder, fetches the file from where it now is instead of failing the
// same way until a restart.
func TestDownloadFromRenamedRemoteFolder(t *testing.T) {
	forEachServer(t, func(t *testing.T, s ftpTarget) {
		for _, mode := range []string{ModeTwoWay, ModePull} {
			t.Run(mode, func(t *testing.T) {
				local := t.TempDir()
				rdir := "dl-" + mode
				s.putRemote(t, rdir+"/proj/a.txt", "a")
				cfg := s.folderConfig(t, local, "/"+rdir, mode)
				a, _ := syncRetryAgent(t, cfg, 1)
				ctx := context.Background()
				if err := a.Sync(ctx, "", false, io.Discard); err != nil {
					t.Fatal(err)
				}
				// A new remote file is listed (a dry run keeps the
				// listing), then its folder is renamed before the
				// download runs.
				s.putRemote(t, rdir+"/proj/c.txt", "new on the server")
				if err := a.Sync(ctx, "", true, io.Discard); !errors.Is(err, ErrPending) {
					t.Fatalf("dry run: %v, want the download pending", err)
				}
				remoteDir := filepath.Join(s.Home, rdir)
				if err := os.Rename(filepath.Join(remoteDir, "proj"), filepath.Join(remoteDir, "proj-renamed")); err != nil {
					t.Fatal(err)
				}
				f := a.folders[0]
				if _, err := f.pass(ctx, []string{"proj"}, false, io.Discard); err != nil {
					t.Fatal(err)
				}
				if st := f.Status(); !slices.ContainsFunc(st.Problems, func(p status.PathError) bool { return p.Path == "proj/c.txt" }) {
					t.Errorf("status does not show the failed download: %+v", st.Problems)
				}
				if _, err := f.pass(ctx, []string{"proj"}, false, io.Discard); err != nil {
					t.Fatal(err)
				}
				if b, err := os.ReadFile(filepath.Join(local, "proj-renamed/c.txt")); err != nil || string(b) != "new on the server" {
					t.Fatalf("the file in the renamed folder: %q, %v", b, err)
				}
				if st := f.Status(); len(st.Problems) > 0 {
					t.Errorf("status still shows problems once synced: %+v", st.Problems)
				}
				if mode == ModeTwoWay {
					syncUntilQuiet(t, a)
				}
				if d := diffTrees(tree(t, remoteDir), tree(t, local)); len(d) > 0 {
					t.Fatalf("sides differ: %v", d)
				}
			})
		}
	})
}
