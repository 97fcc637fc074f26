package agent

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/syncagent/syncagent/syncstate"
)

// TestFolderRemovedFromConfigIsDropped: the records of a folder taken out
// of the configuration are deleted when the agent next starts; the
// folders still configured keep theirs.
func TestFolderRemovedFromConfigIsDropped(t *testing.T) {
	s := startE2EServer(t)
	cfg := agentConfig(t, s, t.TempDir(), ModePush)
	keep := cfg.Folders[0]
	gone := keep
	gone.Name, gone.Path, gone.Remote = "gone", t.TempDir(), "/gone"
	cfg.Folders = []FolderConfig{keep, gone}

	db, err := syncstate.Open(cfg.State, syncstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{keep.Name, gone.Name} {
		if err := db.Put(name, syncstate.Entry{Path: "a.txt", Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	cfg.Folders = []FolderConfig{keep}
	a, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = syncstate.Open(filepath.Clean(cfg.State), syncstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	folders, err := db.Folders()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(folders, []string{keep.Name}) {
		t.Fatalf("state folders after %q left the config: %q, want only %q", gone.Name, folders, keep.Name)
	}
}
