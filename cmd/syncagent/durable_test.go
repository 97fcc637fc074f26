package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/syncagent/syncagent/internal/testenv"
)

// TestDownloadSyncsFolderBeforeState runs a pull of one file under strace
// and reads the system calls: after the temporary is renamed over the
// file, its folder is fsynced, and only then does the state file reach
// the disk (its fdatasync), so that a power loss can never leave a state
// record newer than the file it describes.
func TestDownloadSyncsFolderBeforeState(t *testing.T) {
	strace := testenv.LookPath(t, "strace")
	addr, home := startSyncServer(t)
	if err := os.MkdirAll(filepath.Join(home, "docs", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "docs", "sub", "file.txt"), []byte("from the server\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	local := filepath.Join(dir, "docs")
	if err := os.Mkdir(local, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "agent.yaml")
	state := filepath.Join(dir, "state.db")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`state: %q
status_listen: ""
servers:
  srv: {address: %q, user: agent, password: %q, connections: 1}
folders:
  - {name: docs, path: %q, server: srv, remote: /docs, mode: pull}
`, state, addr, syncTestPassword, local)), 0o600); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(dir, "trace.txt")
	out, err := exec.Command(strace, "-f", "-y", "-o", trace, "-e", "trace=rename,renameat,renameat2,fsync,fdatasync",
		syncagentBin(t), "sync", "-config", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("sync under strace: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(local, "sub", "file.txt")); err != nil || string(b) != "from the server\n" {
		t.Fatalf("file not downloaded: %q, %v", b, err)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	target := filepath.Join(local, "sub", "file.txt")
	renamed, folderSynced, stateSynced := -1, -1, -1
	// A call may be split over two lines ("<unfinished ...>" then
	// "resumed") when another thread's call comes between: its first line
	// is when it began, which a later call on the same thread follows.
	folderSync := regexp.MustCompile(`\bfsync\(\d+<` + regexp.QuoteMeta(filepath.Join(local, "sub")) + `>`)
	stateSync := regexp.MustCompile(`\bf(data)?sync\(\d+<` + regexp.QuoteMeta(state) + `>\)`)
	for i, l := range lines {
		switch {
		case renamed < 0 && strings.Contains(l, "rename") && strings.Contains(l, `"`+target+`"`):
			renamed = i
		case renamed >= 0 && folderSynced < 0 && folderSync.MatchString(l):
			folderSynced = i
		case renamed >= 0 && stateSynced < 0 && stateSync.MatchString(l):
			stateSynced = i
		}
	}
	if renamed < 0 || stateSynced < 0 {
		t.Fatalf("trace lacks the rename (%d) or the state's sync (%d):\n%s", renamed, stateSynced, b)
	}
	if folderSynced < 0 || folderSynced > stateSynced {
		t.Fatalf("the folder was not fsynced between the rename (line %d) and the state's sync (line %d; folder sync at %d):\n%s",
			renamed+1, stateSynced+1, folderSynced+1, strings.Join(lines[renamed:stateSynced+1], "\n"))
	}
}
