package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An append-only account may replace files but not rename over them: the
// agent must then update files in place (syncserver still writes them
// atomically and keeps the old content as a version), and leave no
// temporary behind that it could never move or delete.
func TestAppendOnlyPushUpdatesExistingFiles(t *testing.T) {
	s := startVersionServer(t, 10, true)
	local := t.TempDir()
	putFile(t, filepath.Join(local, "doc.txt"), "first draft")
	putFile(t, filepath.Join(local, "sub/note.txt"), "note v1")
	runAgent(t, agentConfig(t, s, local, ModePush))
	remote := filepath.Join(s.Home, "remote")
	waitSame(t, local, remote)

	putFile(t, filepath.Join(local, "doc.txt"), "second draft, longer")
	putFile(t, filepath.Join(local, "sub/note.txt"), "note v2")
	waitSame(t, local, remote) // tree() reports any .syncagent- temporary as a difference

	versions := filepath.Join(s.root, ".syncserver", "versions")
	var kept []string
	filepath.WalkDir(versions, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			kept = append(kept, string(b))
		}
		return nil
	})
	joined := strings.Join(kept, "|")
	for _, old := range []string{"first draft", "note v1"} {
		if !strings.Contains(joined, old) {
			t.Errorf("old content %q not kept as a version (versions: %q)", old, kept)
		}
	}
}
