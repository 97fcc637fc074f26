package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/testproxy"
)

// proxiedConfig is agentConfig with the agent dialling through p.
func proxiedConfig(t testing.TB, s *e2eServer, p *testproxy.Proxy, local string) Config {
	cfg := agentConfig(t, s, local, ModePush)
	sc := cfg.Servers["srv"]
	sc.Address = p.Addr()
	sc.OpTimeout = time.Second
	cfg.Servers["srv"] = sc
	return cfg
}

func TestE2EServerRestartMidTransfer(t *testing.T) {
	s := startE2EServer(t)
	p := testproxy.New(t, s.Addr, nil) // only to see the bytes flow
	local := t.TempDir()
	remote := filepath.Join(s.Home, "remote")
	want := writeRandom(t, filepath.Join(local, "large.bin"), 32<<20)
	putFile(t, filepath.Join(local, "small.txt"), "small")
	e2eStartAgent(t, proxiedConfig(t, s, p, local))
	e2eWaitFor(t, "the upload to be under way", func() bool { return p.Sent() > 4<<20 })
	s.stop()
	putFile(t, filepath.Join(local, "while-down.txt"), "written while the server was down")
	s.restart()
	waitMirror(t, local, remote)
	if got := fileSHA(t, filepath.Join(remote, "large.bin")); got != want {
		t.Fatalf("large file differs after the restart")
	}
	if tmp := temps(remote); len(tmp) > 0 {
		t.Fatalf("temporaries left on the server: %v", tmp)
	}
}

func TestE2EConnectionCutMidTransfer(t *testing.T) {
	s := startE2EServer(t)
	p := testproxy.New(t, s.Addr, nil)
	local := t.TempDir()
	remote := filepath.Join(s.Home, "remote")
	want := writeRandom(t, filepath.Join(local, "large.bin"), 16<<20)
	for i := range 20 {
		putFile(t, filepath.Join(local, "many", strings.Repeat("n", i+1)), "x")
	}
	p.CutAfter(8 << 20)
	e2eStartAgent(t, proxiedConfig(t, s, p, local))
	waitMirror(t, local, remote)
	if p.Sent() < 16<<20+8<<20 {
		t.Fatalf("only %d bytes went through: the cut did not interrupt the transfer", p.Sent())
	}
	if got := fileSHA(t, filepath.Join(remote, "large.bin")); got != want {
		t.Fatalf("large file differs after the cut")
	}
	// A second cut during a live edit.
	p.CutAfter(1 << 20)
	writeRandom(t, filepath.Join(local, "large.bin"), 8<<20)
	waitMirror(t, local, remote)
	if tmp := temps(remote); len(tmp) > 0 {
		t.Fatalf("temporaries left on the server: %v", tmp)
	}
}

func TestE2EStalledServer(t *testing.T) {
	s := startE2EServer(t)
	p := testproxy.New(t, s.Addr, nil)
	local := t.TempDir()
	remote := filepath.Join(s.Home, "remote")
	putFile(t, filepath.Join(local, "first.txt"), "first")
	a, _ := e2eStartAgent(t, proxiedConfig(t, s, p, local))
	waitMirror(t, local, remote)

	// The server stops answering, connections stay open. The agent must
	// give up on the hung operation (OpTimeout is 1s) and say so.
	p.Stall(true)
	writeRandom(t, filepath.Join(local, "during-stall.bin"), 2<<20)
	e2eWaitFor(t, "the agent to report the stalled server", func() bool {
		st := a.Status()[0]
		return st.State == "error" && st.LastError != ""
	})
	t.Logf("while stalled: %s", a.Status()[0].LastError)
	if _, err := os.Stat(filepath.Join(remote, "during-stall.bin")); err == nil {
		t.Fatal("file reached the server through a stalled proxy")
	}
	p.Stall(false)
	waitMirror(t, local, remote)
	if tmp := temps(remote); len(tmp) > 0 {
		t.Fatalf("temporaries left on the server: %v", tmp)
	}
}

func TestE2EStaleTempsRemovedAtStart(t *testing.T) {
	s := startE2EServer(t)
	local := t.TempDir()
	remote := filepath.Join(s.Home, "remote")
	putFile(t, filepath.Join(local, "a.txt"), "a")
	putFile(t, filepath.Join(local, "sub/b.txt"), "b")
	// Debris a killed agent left: an old temporary, and a young one that
	// may still belong to a running upload.
	putFile(t, filepath.Join(remote, "sub/.syncagent-deadbeefdeadbeef"), "half an upload")
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(filepath.Join(remote, "sub/.syncagent-deadbeefdeadbeef"), old, old)
	putFile(t, filepath.Join(remote, ".syncagent-0123456789abcdef"), "in progress elsewhere")
	cfg := agentConfig(t, s, local, ModePush)
	cfg.StaleTempAge = time.Hour
	e2eStartAgent(t, cfg)
	waitMirror(t, local, remote, ".syncagent-0123456789abcdef", "sub/.syncagent-deadbeefdeadbeef")
	e2eWaitFor(t, "the stale temporary to go", func() bool {
		_, err := os.Stat(filepath.Join(remote, "sub/.syncagent-deadbeefdeadbeef"))
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(filepath.Join(remote, ".syncagent-0123456789abcdef")); err != nil {
		t.Fatalf("a young temporary was removed: %v", err)
	}
}
