package agent

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFolderPathNotADirectory: a folder whose path is a regular file (a
// typo, or a disk image where the mount point should be) is an error that
// names the path, in every mode and on every server; the remote files,
// fewer than max_delete would ever notice, all stay.
func TestFolderPathNotADirectory(t *testing.T) {
	forEachServer(t, func(t *testing.T, s ftpTarget) {
		for _, mode := range []string{ModePush, ModeTwoWay, ModePull} {
			t.Run(mode, func(t *testing.T) {
				remoteDir := filepath.Join(s.Home, "nd-"+mode)
				s.putRemote(t, "nd-"+mode+"/keep1.txt", "one")
				s.putRemote(t, "nd-"+mode+"/sub/keep2.txt", "two")
				notDir := filepath.Join(t.TempDir(), "folder.img")
				putFile(t, notDir, "a file, not a folder")
				cfg := s.folderConfig(t, notDir, "/nd-"+mode, mode)
				a, _ := syncRetryAgent(t, cfg, 1)
				err := a.Sync(context.Background(), "", false, io.Discard)
				if err == nil || !strings.Contains(err.Error(), notDir) || !strings.Contains(err.Error(), "not a directory") {
					t.Fatalf("sync of a folder whose path is a file: %v; want an error naming %s", err, notDir)
				}
				for _, p := range []string{"keep1.txt", "sub/keep2.txt"} {
					if _, err := os.Stat(filepath.Join(remoteDir, p)); err != nil {
						t.Errorf("remote %s: %v", p, err)
					}
				}
				if b, err := os.ReadFile(notDir); err != nil || string(b) != "a file, not a folder" {
					t.Errorf("the file at the folder's path: %q, %v", b, err)
				}
			})
		}
	})
}
