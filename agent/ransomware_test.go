package agent

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// rsWait bounds every wait in these tests.
const rsWait = 60 * time.Second

// rsWaitFor polls cond until it holds, failing after rsWait.
func rsWaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(rsWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestRansomwareDrill: a push agent faithfully mirrors garbage over a
// folder of good files (and a deleted original); restoring the folder's
// root as of a time before the attack brings every good file back, byte
// for byte, locally and, through the running agent, on the server.
func TestRansomwareDrill(t *testing.T) {
	s := startVersionServer(t, 10, false)
	local := t.TempDir()
	good := make(map[string][]byte)
	for i := range 30 {
		rel := fmt.Sprintf("doc%02d.txt", i)
		if i%3 == 1 {
			rel = fmt.Sprintf("sub%d/doc%02d.bin", i%2, i)
		}
		content := bytes.Repeat([]byte(fmt.Sprintf("good content of file %d\n", i)), 1+i*37)
		good[rel] = content
		putFile(t, filepath.Join(local, filepath.FromSlash(rel)), string(content))
	}
	cfg := agentConfig(t, s, local, ModePush)
	runAgent(t, cfg)
	remoteDir := filepath.Join(s.Home, "remote")
	waitSame(t, local, remoteDir)

	before := rsMarkSecond()
	// The attack: every file is "encrypted" in place, one original is
	// deleted after its encrypted copy is written next to it.
	for rel := range good {
		p := filepath.Join(local, filepath.FromSlash(rel))
		if rel == "doc00.txt" {
			putFile(t, p+".locked", "ENCRYPTED "+rel)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		putFile(t, p, "ENCRYPTED "+rel+strings.Repeat("!", len(rel)))
	}
	waitSame(t, local, remoteDir) // the agent mirrored the damage
	if b, err := os.ReadFile(filepath.Join(remoteDir, "doc03.txt")); err != nil || !bytes.HasPrefix(b, []byte("ENCRYPTED")) {
		t.Fatalf("the attack did not reach the server: %q, %v", b, err)
	}

	// The recovery: restore the folder's root as of before the attack to
	// its place in the synced folder, while the agent keeps running.
	pool := rsPool(t, s)
	dst, ok := LocalPathFor(cfg, "srv", "/remote")
	if !ok || dst != local {
		t.Fatalf("LocalPathFor = %q, %v; want %q", dst, ok, local)
	}
	res, err := Restore(context.Background(), pool, "/remote", before, dst, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) > 0 {
		t.Fatalf("restore failed for %v", res.Failed)
	}
	if len(res.Restored) != len(good) {
		t.Errorf("restored %d files, want %d (skipped %v)", len(res.Restored), len(good), res.Skipped)
	}
	for rel, want := range good {
		got, err := os.ReadFile(filepath.Join(local, filepath.FromSlash(rel)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("local %s not restored (%d bytes, %v)", rel, len(got), err)
		}
	}
	// The agent pushes the restored files back over the garbage.
	waitSame(t, local, remoteDir)
	for rel, want := range good {
		got, err := os.ReadFile(filepath.Join(remoteDir, filepath.FromSlash(rel)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("remote %s not restored (%d bytes, %v)", rel, len(got), err)
		}
	}
}

// lockedBuffer collects log output from the agent's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the logged lines containing every one of subs.
func (l *lockedBuffer) lines(subs ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		all := line != ""
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// TestAppendOnlyPushLogsRefusalOnce: an append-only account refuses the
// agent's deletes; the agent says so once per path, keeps running and
// keeps syncing everything else.
func TestAppendOnlyPushLogsRefusalOnce(t *testing.T) {
	s := startVersionServer(t, 10, true)
	local := t.TempDir()
	putFile(t, filepath.Join(local, "keep.txt"), "keep")
	putFile(t, filepath.Join(local, "doomed.txt"), "the server keeps me")
	putFile(t, filepath.Join(local, "dir/x.txt"), "x")
	putFile(t, filepath.Join(local, "dir/y.txt"), "y")
	cfg := agentConfig(t, s, local, ModePush)
	logs := &lockedBuffer{}
	a, err := New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		a.Close()
	}()
	remoteDir := filepath.Join(s.Home, "remote")
	waitSame(t, local, remoteDir)

	if err := os.Remove(filepath.Join(local, "doomed.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(local, "dir")); err != nil {
		t.Fatal(err)
	}
	putFile(t, filepath.Join(local, "new.txt"), "added after the refusals")
	rsWaitFor(t, "new.txt on the server", func() bool {
		b, err := os.ReadFile(filepath.Join(remoteDir, "new.txt"))
		return err == nil && string(b) == "added after the refusals"
	})
	rsWaitFor(t, "both refusals logged", func() bool {
		return len(logs.lines("level=WARN", "delete-remote doomed.txt")) > 0 && len(logs.lines("level=WARN", "delete-remote dir")) > 0
	})
	// Let several full passes (poll: 300ms) go by.
	last := a.Status()[0].LastSync
	for range 4 {
		rsWaitFor(t, "another pass", func() bool {
			st := a.Status()[0]
			if st.LastSync.After(last) {
				last = st.LastSync
				return true
			}
			return false
		})
	}
	putFile(t, filepath.Join(local, "newer.txt"), "still syncing")
	rsWaitFor(t, "newer.txt on the server", func() bool {
		b, err := os.ReadFile(filepath.Join(remoteDir, "newer.txt"))
		return err == nil && string(b) == "still syncing"
	})

	if n := len(logs.lines("level=WARN", "doomed.txt")); n != 1 {
		t.Errorf("refusal of doomed.txt logged %d times at warn, want once:\n%s", n, strings.Join(logs.lines("doomed.txt"), "\n"))
	}
	seen := make(map[string]bool)
	for _, line := range logs.lines("level=WARN", "delete-remote") {
		action := line[strings.Index(line, "delete-remote"):]
		action, _, _ = strings.Cut(action, " (")
		if seen[action] {
			t.Errorf("refusal of %q logged more than once", action)
		}
		seen[action] = true
	}
	if got := logs.lines("deleted remote"); len(got) > 0 {
		t.Errorf("refused deletes reported as done:\n%s", strings.Join(got, "\n"))
	}
	if got := logs.lines("level=ERROR"); len(got) > 0 {
		t.Errorf("errors logged:\n%s", strings.Join(got, "\n"))
	}
	for _, rel := range []string{"doomed.txt", "dir/x.txt", "dir/y.txt", "keep.txt"} {
		if _, err := os.Stat(filepath.Join(remoteDir, filepath.FromSlash(rel))); err != nil {
			t.Errorf("append-only server lost %s: %v", rel, err)
		}
	}
	if st := a.Status()[0]; st.State == "error" {
		t.Errorf("status %+v: want the folder running", st)
	}
}
