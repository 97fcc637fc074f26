package agent

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestSyncPassesAgainAfterAFailedPrecondition: another client writes a
// path between the listing of `syncagent sync`'s pass and its upload.
// The conditional upload is refused, and Sync must not end there with
// "not in sync": it lists again and plans the path afresh in a further
// pass, so both texts survive (the remote one under the name, the local
// one as a conflict copy) and Sync returns nil.
func TestSyncPassesAgainAfterAFailedPrecondition(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	putFile(t, filepath.Join(local, "doc.txt"), "local text")
	cfg := agentConfig(t, s, local, ModeTwoWay)
	if err := os.MkdirAll(filepath.Join(s.Home, "remote"), 0o755); err != nil {
		t.Fatal(err)
	}
	a, _ := syncRetryAgent(t, cfg, 3)
	var once sync.Once
	a.folders[0].afterList = func() {
		once.Do(func() { ftpPut(t, s.Addr, "agent", e2ePassword, "/remote/doc.txt", "remote text") })
	}
	if err := a.Sync(context.Background(), "", false, io.Discard); err != nil {
		t.Fatalf("sync with a remote write after its listing: %v, want nil (passed again)", err)
	}
	for _, dir := range []string{local, filepath.Join(s.Home, "remote")} {
		if b, err := os.ReadFile(filepath.Join(dir, "doc.txt")); err != nil || string(b) != "remote text" {
			t.Errorf("%s/doc.txt = %q, %v; want the remote text", dir, b, err)
		}
		copies := conflictCopies(t, dir, "doc", ".txt")
		if len(copies) != 1 {
			t.Errorf("%s: conflict copies %v, want one", dir, copies)
			continue
		}
		if b, err := os.ReadFile(copies[0]); err != nil || string(b) != "local text" {
			t.Errorf("conflict copy %s = %q, %v; want the local text", copies[0], b, err)
		}
	}
}
