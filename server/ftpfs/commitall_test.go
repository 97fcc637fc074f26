package ftpfs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCommitAll commits a group holding a new file, a replaced file (whose
// old content must become a version), a CreateUnique upload and one whose
// parent directory vanished after staging: each gets its own outcome, the
// failure alone fails, and the staging area ends empty.
func TestCommitAll(t *testing.T) {
	e := newVersionEnv(t, 5)
	e.write(t, "old.txt", "old")
	if err := os.MkdirAll(filepath.Join(e.home, "gone"), 0o755); err != nil {
		t.Fatal(err)
	}
	stage := func(vpath string, mode CreateMode, content string) *Upload {
		t.Helper()
		u, err := e.fs.Create(vpath, mode, 0)
		if err != nil {
			t.Fatalf("Create(%s): %v", vpath, err)
		}
		if _, err := u.File().WriteString(content); err != nil {
			t.Fatal(err)
		}
		return u
	}
	ups := []*Upload{
		stage("/new.txt", CreateTruncate, "new"),
		stage("/old.txt", CreateTruncate, "replaced"),
		stage("/gone/x.txt", CreateTruncate, "lost"),
		stage("/old.txt", CreateUnique, "unique"),
	}
	if err := os.Remove(filepath.Join(e.home, "gone")); err != nil {
		t.Fatal(err)
	}
	errs := e.fs.CommitAll(ups)
	for i, want := range []bool{true, true, false, true} {
		if (errs[i] == nil) != want {
			t.Errorf("upload %d (%s): err = %v", i, ups[i].Name(), errs[i])
		}
	}
	for rel, want := range map[string]string{"new.txt": "new", "old.txt": "replaced", ups[3].Name()[1:]: "unique"} {
		got, err := os.ReadFile(filepath.Join(e.home, rel))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", rel, got, err, want)
		}
	}
	if got := e.contents(t, "/old.txt"); !slices.Equal(got, []string{"old"}) {
		t.Errorf("versions of old.txt = %q", got)
	}
	if _, err := os.Stat(filepath.Join(e.home, "gone")); err == nil {
		t.Errorf("a failed commit recreated its directory")
	}
	tmp, _ := os.ReadDir(filepath.Join(e.root, dataDir, "tmp"))
	if len(tmp) != 0 {
		t.Errorf("staging area not empty: %d entries", len(tmp))
	}
	// Committed uploads are finished, as after Commit.
	if err := ups[0].Commit(); err == nil {
		t.Errorf("Commit after CommitAll succeeded")
	}
	if errs := e.fs.CommitAll(nil); len(errs) != 0 {
		t.Errorf("CommitAll(nil) = %v", errs)
	}
}
