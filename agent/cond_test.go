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

func TestRemoteEditAfterLastPollSurvivesSyncserver(t *testing.T) {
	s := startE2EServer(t)
	sc := ServerConfig{Address: s.Addr, User: "agent", Password: e2ePassword, TLS: TLSNone, Connections: 2}
	put := func(p, content string) { ftpPut(t, s.Addr, "agent", e2ePassword, p, content) }
	// Same size: only the content (SITE EXPECT's sha256) tells them apart.
	remoteEditSurvives(t, sc, "/remote", filepath.Join(s.Home, "remote"), put, "remote text", "local  text")
}

func TestRemoteEditAfterLastPollSurvivesVsftpd(t *testing.T) {
	v := startVsftpd(t)
	put := func(p, content string) { ftpPut(t, v.Addr, v.User, v.Password, p, content) }
	remoteEditSurvives(t, v.serverConfig(), "/folder", filepath.Join(v.Home, "folder"), put, "the remote edit", "local edit")
}

// readIfAny reads a file that may be mid-replacement.
func readIfAny(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}
