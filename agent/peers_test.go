package agent

import (
	"context"
	"io"
	"path/filepath"
	"testing"
)

// TestPushToEveryServer mirrors a small tree, dot files included, onto
// each server with one pass, and finds the next pass has nothing to do.
func TestPushToEveryServer(t *testing.T) {
	forEachServer(t, func(t *testing.T, s ftpTarget) {
		local := t.TempDir()
		putFile(t, filepath.Join(local, "a.txt"), "a")
		putFile(t, filepath.Join(local, "sub/b.txt"), "bb")
		putFile(t, filepath.Join(local, ".hidden/.c"), "ccc")
		cfg := s.folderConfig(t, local, "/mirror", ModePush)
		a, _ := syncRetryAgent(t, cfg, 1)
		if err := a.Sync(context.Background(), "", false, io.Discard); err != nil {
			t.Fatal(err)
		}
		if d := diffTrees(tree(t, local), tree(t, filepath.Join(s.Home, "mirror"))); len(d) > 0 {
			t.Fatalf("not mirrored: %v", d)
		}
		if err := a.Sync(context.Background(), "", true, io.Discard); err != nil {
			t.Fatalf("second pass would act: %v", err)
		}
	})
}
