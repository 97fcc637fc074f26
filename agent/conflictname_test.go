package agent

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/syncstate"
)

// runAgentAt runs an agent whose folders all see the clock stopped at at,
// so that conflict copies made by two agents fall in the same second.
func runAgentAt(t *testing.T, cfg Config, at time.Time) *Agent {
	t.Helper()
	return runAgentLogged(t, cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})), func(a *Agent) {
		for _, f := range a.folders {
			f.now = func() time.Time { return at }
		}
	})
}

// TestTwoAgentsConflictCopiesInOneSecond: two agents, each with its own
// edit of a file that a third client also edited on the server, make
// their conflict copies in the same second. Each copy has its agent's
// name, so neither replaces the other: all three texts end on all three
// sides.
func TestTwoAgentsConflictCopiesInOneSecond(t *testing.T) {
	s := startE2EServer(t)
	remote := filepath.Join(s.Home, "remote")
	putFile(t, filepath.Join(remote, "doc.txt"), "base")
	a, b := t.TempDir(), t.TempDir()
	cfgA, cfgB := agentConfig(t, s, a, ModeTwoWay), agentConfig(t, s, b, ModeTwoWay)
	agentA, stopA := runAgentWithStatus(t, cfgA)
	agentB, stopB := runAgentWithStatus(t, cfgB)
	waitSame(t, a, remote)
	waitSame(t, b, remote)
	stopA()
	stopB()
	idA, idB := agentA.ID(), agentB.ID()
	if len(idA) != agentIDLen || idA == idB {
		t.Fatalf("agent ids %q and %q: want two different %d-character ids", idA, idB, agentIDLen)
	}

	ftpPut(t, s.Addr, "agent", e2ePassword, "/remote/doc.txt", "the server's edit")
	putFile(t, filepath.Join(a, "doc.txt"), "A's edit")
	putFile(t, filepath.Join(b, "doc.txt"), "B's edit, longer")
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if got := runAgentAt(t, cfgA, at).ID(); got != idA {
		t.Fatalf("agent A's id changed across a restart: %q, was %q", got, idA)
	}
	runAgentAt(t, cfgB, at)
	want := map[string]string{
		"doc.txt":                             "the server's edit",
		plan.ConflictName("doc.txt", at, idA): "A's edit",
		plan.ConflictName("doc.txt", at, idB): "B's edit, longer",
	}
	for _, dir := range []string{remote, a, b} {
		waitUntil(t, "every text in "+dir, func() bool {
			for name, text := range want {
				if got, err := readIfAny(filepath.Join(dir, name)); err != nil || got != text {
					return false
				}
			}
			return true
		})
	}
	waitSame(t, a, remote)
	waitSame(t, b, remote)
}

// TestConflictNameNeverReplaces: a name already taken locally, on the
// server or in the synced state is passed over.
func TestConflictNameNeverReplaces(t *testing.T) {
	root := t.TempDir()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	f := &folder{root: root, agentID: "ABCDEFG", now: func() time.Time { return at },
		remote: map[string]remoteFacts{}, base: map[string]syncstate.Entry{}}
	first := plan.ConflictName("d/doc.txt", at, "ABCDEFG")
	putFile(t, filepath.Join(root, filepath.FromSlash(first)), "an earlier copy")
	f.remote[plan.ConflictName("d/doc.txt", at, "ABCDEFG-2")] = remoteFacts{Size: 1}
	f.base[plan.ConflictName("d/doc.txt", at, "ABCDEFG-3")] = syncstate.Entry{Size: 1}
	got, err := f.conflictName("d/doc.txt")
	if want := "d/doc.sync-conflict-20260304-050607-ABCDEFG-4.txt"; err != nil || got != want {
		t.Fatalf("conflictName = %q, %v; want %q", got, err, want)
	}
	if b, _ := os.ReadFile(filepath.Join(root, filepath.FromSlash(first))); string(b) != "an earlier copy" {
		t.Fatalf("the earlier copy changed: %q", b)
	}
}
