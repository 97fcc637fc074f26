package agent

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/agent/plan"
)

func TestParseConflictName(t *testing.T) {
	at := time.Date(2026, 12, 2, 15, 4, 5, 0, time.UTC)
	for _, orig := range []string{"notes.txt", "dir/a.tar.gz", "Makefile", "sub/.bashrc", "x.sync-conflict-1.txt"} {
		for _, id := range []string{"", "QX7ZK2A"} {
			name := plan.ConflictName(orig, at, id)
			c, ok := parseConflictName(name)
			if !ok || c.Original != orig || !c.Time.Equal(at) || c.Path != name || c.Agent != id {
				t.Errorf("%s (copy of %s): %+v, %v", name, orig, c, ok)
			}
		}
	}
	// The form with the id of the agent that made the copy.
	c, ok := parseConflictName("d/report.sync-conflict-20261202-150405-a1b2c3.txt")
	if !ok || c.Original != "d/report.txt" || c.Agent != "a1b2c3" || !c.Time.Equal(at) {
		t.Errorf("with an agent id: %+v, %v", c, ok)
	}
	for _, not := range []string{"notes.txt", "a.sync-conflict-2026-1.txt", "a.sync-conflict-20261202-150405-.txt", ".sync-conflict-20261202-150405"} {
		if c, ok := parseConflictName(not); ok {
			t.Errorf("%q taken for a conflict copy: %+v", not, c)
		}
	}
}

func TestFindConflicts(t *testing.T) {
	root := t.TempDir()
	at := time.Date(2026, 12, 2, 15, 4, 5, 0, time.UTC)
	for _, p := range []string{"a.txt", plan.ConflictName("a.txt", at, ""), plan.ConflictName("sub/b.md", at, "QX7ZK2A"), "sub/.syncagent-x.sync-conflict-20261202-150405.md"} {
		putFile(t, filepath.Join(root, filepath.FromSlash(p)), "x")
	}
	got, err := FindConflicts(context.Background(), root)
	if err != nil || len(got) != 2 || got[0].Original != "a.txt" || got[1].Original != "sub/b.md" || got[0].Size != 1 {
		t.Errorf("FindConflicts: %+v, %v", got, err)
	}
	if got, err := FindConflicts(context.Background(), filepath.Join(root, "absent")); err != nil || len(got) != 0 {
		t.Errorf("absent folder: %v, %v", got, err)
	}
}

// TestTransferRate: a transfer in flight reports its rate and time left.
func TestTransferRate(t *testing.T) {
	f := &folder{}
	progress, untrack := f.track("big.bin", "upload", 1000)
	defer untrack()
	time.Sleep(5 * time.Millisecond)
	progress(250)
	f.mu.Lock()
	ts := f.transfersLocked()
	f.mu.Unlock()
	if len(ts) != 1 || ts[0].Rate <= 0 || ts[0].ETASeconds <= 0 {
		t.Errorf("transfer: %+v, want a rate and an ETA", ts)
	}
}
