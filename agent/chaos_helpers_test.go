package agent

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/syncagent/syncagent/internal/testbin"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/syncagent/syncagent/syncstate"
)

// Helpers of the reliability suite (chaos_test.go, crashpoint_test.go):
// the agent as a real process that can be SIGKILLed, and the invariant
// checks. The proxy that breaks connections is internal/testproxy.

// syncagentBinary is ./cmd/syncagent, built once per test binary.
func syncagentBinary(t testing.TB) string {
	return testbin.Path(t, "github.com/syncagent/syncagent/cmd/syncagent")
}

// startVersionedServer is startE2EServer keeping every old version, so that
// "nothing is lost" can look for overwritten content in the version store.
func startVersionedServer(t testing.TB) *e2eServer {
	t.Helper()
	return startServerKeeping(t, 100000)
}

// agentProc is syncagent run as a child process.
type agentProc struct {
	t      testing.TB
	bin    string
	config string
	state  string
	mu     sync.Mutex
	log    bytes.Buffer // every run's stderr, for the panic check and failures
	cmd    *exec.Cmd
	done   chan struct{}
}

// newAgentProc writes a config for one folder synced with addr's /remote.
func newAgentProc(t testing.TB, addr, local, mode string) *agentProc {
	t.Helper()
	dir := t.TempDir()
	p := &agentProc{t: t, bin: syncagentBinary(t), config: filepath.Join(dir, "agent.yaml"), state: filepath.Join(dir, "state.db")}
	y := fmt.Sprintf(`state: %q
status_listen: ""
servers:
  srv: {address: %q, user: agent, password: %q, connections: 3}
folders:
  - {name: f, path: %q, server: srv, remote: /remote, mode: %s, debounce: 20ms, poll: 300ms, rescan: 2s, max_delete: "100%%"}
`, p.state, addr, e2ePassword, local, mode)
	if err := os.WriteFile(p.config, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop() })
	return p
}

// start runs the agent with extra environment variables (KEY=VALUE).
func (p *agentProc) start(env ...string) {
	p.t.Helper()
	cmd := exec.Command(p.bin, "run", "-config", p.config, "-log-level", "debug")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.log}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
}

// kill SIGKILLs the agent and waits for it to be gone.
func (p *agentProc) kill() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// stop asks the agent to shut down (SIGTERM) and waits, killing it after 20s.
func (p *agentProc) stop() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Errorf("agent did not stop on SIGTERM within 20s")
		p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
}

// waitExit waits (bounded) for the agent to exit by itself and reports
// whether a signal ended it.
func (p *agentProc) waitExit(d time.Duration) (killed, exited bool) {
	select {
	case <-p.done:
	case <-time.After(d):
		return false, false
	}
	ws, _ := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	p.cmd = nil
	return ws.Signaled() && ws.Signal() == syscall.SIGKILL, true
}

func (p *agentProc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// waitPasses waits (bounded) until the running agent has completed n more
// sync passes, so that what it saw is in its state database.
func (p *agentProc) waitPasses(n int) {
	p.t.Helper()
	count := func() int { return strings.Count(p.logs(), `msg="pass done"`) }
	want := count() + n
	deadline := time.Now().Add(60 * time.Second)
	for count() < want {
		if time.Now().After(deadline) {
			p.t.Fatalf("the agent completed no sync pass in 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// fileHashes maps every regular file under root to its full SHA-256 and
// lists the agent temporaries found.
func fileHashes(t testing.TB, root string) (files map[string]string, temps []string) {
	t.Helper()
	files = make(map[string]string)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(d.Name(), ".syncagent-") {
			temps = append(temps, rel)
			return nil
		}
		if b, err := os.ReadFile(p); err == nil {
			files[rel] = sum(b)
		}
		return nil
	})
	return files, temps
}

// checkState compares the agent's state database (the agent stopped) with
// the converged tree: one entry per file, with the file's hash and size.
func checkState(t testing.TB, stateFile string, files map[string]string) {
	t.Helper()
	db, err := syncstate.Open(stateFile, syncstate.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open state: %v", err)
	}
	defer db.Close()
	entries, err := db.Folder("f")
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	for p, e := range entries {
		if e.Dir {
			continue
		}
		h, ok := files[p]
		if !ok {
			t.Errorf("state has %s, which exists on neither side", p)
		} else if hex.EncodeToString(e.Hash[:]) != h {
			t.Errorf("state hash of %s is %x, the file's is %s", p, e.Hash[:4], h[:8])
		}
	}
	for p := range files {
		if e, ok := entries[p]; !ok || e.Dir {
			t.Errorf("%s is synced on both sides but has no state entry", p)
		}
	}
}

// backdate makes every remote agent temporary look two hours old, as if
// the agent killed before had died long ago, so that the next start's
// clean-up takes them.
func backdate(root string) {
	old := time.Now().Add(-2 * time.Hour)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".syncagent-") {
			os.Chtimes(p, old, old)
		}
		return nil
	})
}

// randomContent is a unique content: a header naming its origin, and
// pseudo-random filler so that sizes vary from empty-ish to a few hundred KB.
func randomContent(rng *rand.Rand, origin string) []byte {
	var b bytes.Buffer
	b.WriteString(origin + "\n")
	n := rng.IntN(4096)
	if rng.IntN(5) == 0 {
		n = 64<<10 + rng.IntN(256<<10)
	}
	for b.Len() < n {
		fmt.Fprintf(&b, "%016x", rng.Uint64())
	}
	return b.Bytes()
}
