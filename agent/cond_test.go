package agent

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
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

// remoteEditSurvives is issue 15's first story: a two-way folder in sync,
// a remote edit by another FTP client after the agent's last listing,
// then a local edit of the same file. The remote text must survive, on
// both sides: the path keeps it and the local text becomes a conflict
// copy. remoteDisk is the remote folder on disk; put stores a file with
// a plain FTP client.
func remoteEditSurvives(t *testing.T, sc ServerConfig, remoteDir, remoteDisk string, put func(remotePath, content string), remoteText, localText string) {
	local := t.TempDir()
	putFile(t, filepath.Join(local, "doc.txt"), "first version")
	a, _ := runAgentWithStatus(t, twoWayNoPoll(t, sc, local, remoteDir))
	waitUntil(t, "the first upload", func() bool {
		st := a.Status()
		return len(st) == 1 && st[0].Uploaded == 1 && st[0].State == "idle"
	})
	put(remoteDir+"/doc.txt", remoteText)
	putFile(t, filepath.Join(local, "doc.txt"), localText)

	want := []string{"doc.txt=" + remoteText, "conflict=" + localText}
	contents := func(dir string) []string {
		var got []string
		if b, err := readIfAny(filepath.Join(dir, "doc.txt")); err == nil {
			got = append(got, "doc.txt="+b)
		}
		for _, c := range conflictCopies(t, dir, "doc", ".txt") {
			b, _ := readIfAny(c)
			got = append(got, "conflict="+b)
		}
		return got
	}
	waitUntil(t, "both texts on both sides", func() bool {
		return slices.Equal(contents(local), want) && slices.Equal(contents(remoteDisk), want)
	})
}

// TestRemoteEditAfterLastPollSurvives runs the story on every server:
// syncserver refuses the upload itself (SITE EXPECT, here with texts of one
// size, so only the content tells them apart); the peers get a stat just
// before the rename, which sees the remote edit's new size.
func TestRemoteEditAfterLastPollSurvives(t *testing.T) {
	forEachServer(t, func(t *testing.T, s ftpTarget) {
		remoteText, localText := "the remote edit", "local edit"
		if s.Name == "syncserver" {
			remoteText, localText = "remote text", "local  text"
		}
		put := func(p, content string) { ftpPut(t, s.Addr, s.User, s.Password, p, content) }
		remoteEditSurvives(t, s.serverConfig(), "/folder", filepath.Join(s.Home, "folder"), put, remoteText, localText)
	})
}

// readIfAny reads a file that may be mid-replacement.
func readIfAny(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
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
