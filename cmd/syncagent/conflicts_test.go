package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/agent/plan"
)

// TestConflictsCommand lists the conflict copies in the folder now, as
// the agent names them, in text and JSON, and refuses an unknown folder
// naming the valid ones.
func TestConflictsCommand(t *testing.T) {
	e := startVersionsEnv(t)
	out, err := e.run(t, "conflicts", "-config", e.config)
	if err != nil || strings.TrimSpace(out) != "no conflict copies" {
		t.Fatalf("conflicts in an empty folder: %v\n%s", err, out)
	}
	at := time.Date(2026, 12, 2, 15, 4, 5, 0, time.UTC)
	copy1 := plan.ConflictName("notes.txt", at, "QX7ZK2A")
	writeFiles(t, e.local, map[string]string{"notes.txt": "a", copy1: "b", "sub/plan.sync-conflict-20261201-090000-a1b2.md": "c"})
	out, err = e.run(t, "conflicts", "-folder", "docs", "-config", e.config)
	if err != nil {
		t.Fatal(err)
	}
	norm := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"docs " + copy1 + " notes.txt", "sub/plan.sync-conflict-20261201-090000-a1b2.md sub/plan.md"} {
		if !strings.Contains(norm, want) {
			t.Errorf("conflicts lacks %q:\n%s", want, out)
		}
	}
	out, err = e.run(t, "conflicts", "-json", "-config", e.config)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Folders []folderConflicts `json:"folders"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Folders) != 1 || len(doc.Folders[0].ConflictCopies) != 2 ||
		doc.Folders[0].ConflictCopies[1].Agent != "a1b2" {
		t.Errorf("conflicts -json: %v\n%s", err, out)
	}
	if _, err := e.run(t, "conflicts", "-folder", "nope", "-config", e.config); err == nil || !strings.Contains(err.Error(), "docs") {
		t.Errorf("conflicts -folder nope: %v, want an error naming docs", err)
	}
	// The servers' password may be a variable only the service has.
	b, _ := os.ReadFile(e.config)
	os.WriteFile(e.config, []byte(strings.Replace(string(b), "password: secret", "password: ${SYNCAGENT_TEST_UNSET_PW}", 1)), 0o600)
	if out, err := e.run(t, "conflicts", "-config", e.config); err != nil || !strings.Contains(out, copy1) {
		t.Errorf("conflicts without the password's variable: %v\n%s", err, out)
	}
}
