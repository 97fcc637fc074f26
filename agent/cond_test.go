package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/testproxy"
)

// twoWayNoPoll syncs local with remoteDir on sc in two-way mode, with a
// poll and a rescan that never come during a test: after its first pass
// the agent knows of the remote only what it listed then.
func twoWayNoPoll(t testing.TB, sc ServerConfig, local, remoteDir string) Config {
	cfg := DefaultConfig()
	cfg.State = filepath.Join(t.TempDir(), "state.db")
	cfg.StatusListen = ""
	cfg.Servers = map[string]ServerConfig{"srv": sc}
	cfg.Folders = []FolderConfig{{Name: "f", Path: local, Server: "srv", Remote: remoteDir, Mode: ModeTwoWay,
		Debounce: config.Duration(20 * time.Millisecond), Poll: config.Duration(time.Hour),
		Rescan: config.Duration(time.Hour), MaxDelete: "50%"}}
	return cfg
}

// afterRemoteEdit is issue 15's first story: a two-way folder in sync, a
// remote edit of doc.txt by another FTP client after the agent's last
// listing, then local, a change of the same file (do). The remote text
// must survive on both sides: the folders must end holding exactly want,
// a map from file name (the conflict copy of doc.txt as "conflict") to
// content. remoteDisk is the remote folder on disk; put stores a file
// with a plain FTP client.
func afterRemoteEdit(t *testing.T, sc ServerConfig, remoteDir, remoteDisk string, put func(remotePath, content string),
	remoteText string, do func(local string), want map[string]string) {
	local := t.TempDir()
	putFile(t, filepath.Join(local, "doc.txt"), "first version")
	a, _ := runAgentWithStatus(t, twoWayNoPoll(t, sc, local, remoteDir))
	waitUntil(t, "the first upload", func() bool {
		st := a.Status()
		return len(st) == 1 && st[0].Uploaded == 1 && st[0].State == "idle"
	})
	put(remoteDir+"/doc.txt", remoteText)
	do(local)

	contents := func(dir string) map[string]string {
		got := make(map[string]string)
		for p, h := range tree(t, dir) {
			name := p
			if strings.Contains(p, ".sync-conflict-") {
				name = "conflict"
			}
			got[name] = h
		}
		return got
	}
	wantHashes := make(map[string]string)
	for name, text := range want {
		sum := sha256.Sum256([]byte(text))
		wantHashes[name] = hex.EncodeToString(sum[:8])
	}
	waitUntil(t, fmt.Sprintf("exactly %v on both sides", want), func() bool {
		return maps.Equal(contents(local), wantHashes) && maps.Equal(contents(remoteDisk), wantHashes)
	})
}

// TestRemoteEditAfterLastPollSurvives runs the story on every server, with
// a local edit (the texts end as the file and a conflict copy), a local
// delete (the remote edit wins and comes back) and a local rename (the
// remote edit stays under the old name). syncserver refuses the stale
// write itself (SITE EXPECT; the edit texts have one size, so only the
// content tells them apart); the peers get a look just before the rename
// or delete, which sees the remote edit's new size.
func TestRemoteEditAfterLastPollSurvives(t *testing.T) {
	forEachServer(t, func(t *testing.T, s ftpTarget) {
		remoteText, localText := "the remote edit", "local edit"
		if s.Name == "syncserver" {
			remoteText, localText = "remote text", "local  text"
		}
		put := func(p, content string) { ftpPut(t, s.Addr, s.User, s.Password, p, content) }
		story := func(name string, do func(local string), want map[string]string) {
			t.Run(name, func(t *testing.T) {
				dir := "/" + name
				afterRemoteEdit(t, s.serverConfig(), dir, filepath.Join(s.Home, name), put, remoteText, do, want)
			})
		}
		story("edit", func(local string) { putFile(t, filepath.Join(local, "doc.txt"), localText) },
			map[string]string{"doc.txt": remoteText, "conflict": localText})
		story("delete", func(local string) { os.Remove(filepath.Join(local, "doc.txt")) },
			map[string]string{"doc.txt": remoteText})
		story("rename", func(local string) { os.Rename(filepath.Join(local, "doc.txt"), filepath.Join(local, "new.txt")) },
			map[string]string{"doc.txt": remoteText, "new.txt": "first version"})
	})
}

// TestBatchUploadIntoVanishedRemoteDir: another client renamed a remote
// directory after the agent's last listing, then a new file appears in
// the old one locally. SITE BATCH refuses it (550: no such directory); the
// agent then uploads it alone, which creates the directory, instead of
// failing it until a restart.
func TestBatchUploadIntoVanishedRemoteDir(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	putFile(t, filepath.Join(local, "d/old.txt"), "synced")
	sc := ServerConfig{Address: s.Addr, User: "agent", Password: e2ePassword, TLS: TLSNone, Connections: 2}
	a, _ := runAgentWithStatus(t, twoWayNoPoll(t, sc, local, "/remote"))
	waitUntil(t, "the first upload", func() bool {
		st := a.Status()
		return len(st) == 1 && st[0].Uploaded == 1 && st[0].State == "idle"
	})
	if err := os.Rename(filepath.Join(s.Home, "remote/d"), filepath.Join(s.Home, "remote/e")); err != nil {
		t.Fatal(err)
	}
	putFile(t, filepath.Join(local, "d/new.txt"), "new in d")
	waitUntil(t, "d/new.txt on the server", func() bool {
		got, err := readIfAny(filepath.Join(s.Home, "remote/d/new.txt"))
		return err == nil && got == "new in d"
	})
}

// readIfAny reads a file that may be mid-replacement.
func readIfAny(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}

// TestFolderDeleteTakesIgnoredRemoteFiles: a folder deleted locally goes
// from the server with the ignored files in it, which the agent never
// lists (the conditional delete keeps only files it has not seen and
// does sync).
func TestFolderDeleteTakesIgnoredRemoteFiles(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	putFile(t, filepath.Join(local, "d/a.txt"), "a")
	putFile(t, filepath.Join(s.Home, "remote/d/debug.log"), "ignored")
	cfg := agentConfig(t, s, local, ModePush)
	cfg.Folders[0].Ignore = []string{"*.log"}
	runAgent(t, cfg)
	waitUntil(t, "d/a.txt on the server", func() bool {
		got, err := readIfAny(filepath.Join(s.Home, "remote/d/a.txt"))
		return err == nil && got == "a"
	})
	if err := os.RemoveAll(filepath.Join(local, "d")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "d gone from the server", func() bool {
		_, err := os.Stat(filepath.Join(s.Home, "remote/d"))
		return os.IsNotExist(err)
	})
}

// TestDownloadIntoRenamedFolderLeavesNoTemporary: the user renames a
// local folder while a download into it runs. The download's temporary
// moves with the folder, out of reach of the download's own clean-up; the
// next full pass removes it.
func TestDownloadIntoRenamedFolderLeavesNoTemporary(t *testing.T) {
	s := startE2EServer(t)
	writeRandom(t, filepath.Join(s.Home, "remote/d/big.bin"), 64<<20)
	px := testproxy.New(t, s.Addr, nil)
	local := t.TempDir()
	cfg := agentConfig(t, s, local, ModeTwoWay)
	cfg.Servers["srv"] = ServerConfig{Address: px.Addr(), User: "agent", Password: e2ePassword, TLS: TLSNone, Connections: 2}
	runAgent(t, cfg)
	// Looked for every millisecond (the transfer takes a few hundred).
	var moved []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if tmp, _ := filepath.Glob(filepath.Join(local, "d", ".syncagent-*")); len(tmp) == 0 {
			continue
		}
		px.Hold(2 * time.Second) // the download cannot finish before the rename
		if err := os.Rename(filepath.Join(local, "d"), filepath.Join(local, "e")); err != nil {
			t.Fatal(err)
		}
		moved, _ = filepath.Glob(filepath.Join(local, "e", ".syncagent-*"))
		break
	}
	if len(moved) == 0 {
		t.Fatal("the download ended before the folder was renamed")
	}
	waitUntil(t, "no local temporary", func() bool { return len(temps(local)) == 0 })
}
