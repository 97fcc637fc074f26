package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/testserver"
	"github.com/syncagent/syncagent/server"
)

const e2ePassword = "agent-test-pass"

// e2eServer is a real syncserver on 127.0.0.1:0 with one user, "agent".
type e2eServer struct {
	Addr string
	Home string // the user's home on disk
	root string
	cfg  server.Config
	run  *testserver.Running
	t    testing.TB
}

// startE2EServer starts the server after each tweak has adjusted its
// config (versions, the user's rights).
func startE2EServer(t testing.TB, tweak ...func(*server.Config)) *e2eServer {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Root = t.TempDir()
	cfg.PassivePorts = ""
	cfg.Users = []server.UserConfig{{Name: "agent", PasswordHash: testserver.Hash(e2ePassword), Home: "agent"}}
	for _, f := range tweak {
		f(&cfg)
	}
	s := &e2eServer{root: cfg.Root, Home: filepath.Join(cfg.Root, "agent"), cfg: cfg, t: t}
	s.run = testserver.Start(t, s.newServer(), testserver.Options{})
	s.Addr = s.run.Addr
	return s
}

func (s *e2eServer) newServer() *server.Server {
	s.t.Helper()
	srv, err := server.New(s.cfg, testserver.Logger(s.t, slog.LevelWarn))
	if err != nil {
		s.t.Fatal(err)
	}
	return srv
}

// stop closes the server at once, as a crash would.
func (s *e2eServer) stop() { s.run.Stop() }

// restart (re)starts the server on the same address.
func (s *e2eServer) restart() { s.run.Restart(s.newServer()) }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// agentConfig returns a config syncing localDir with the server's /remote.
func agentConfig(t testing.TB, s *e2eServer, localDir, mode string) Config {
	cfg := DefaultConfig()
	cfg.State = filepath.Join(t.TempDir(), "state.db")
	cfg.StatusListen = ""
	cfg.Servers = map[string]ServerConfig{"srv": {Address: s.Addr, User: "agent", Password: e2ePassword, TLS: TLSNone, Connections: 4}}
	cfg.Folders = []FolderConfig{{
		Name: "f", Path: localDir, Server: "srv", Remote: "/remote", Mode: mode,
		Debounce: config.Duration(20 * time.Millisecond), Poll: config.Duration(300 * time.Millisecond),
		Rescan: config.Duration(time.Hour), MaxDelete: "50%",
	}}
	return cfg
}

// runAgent starts an agent in the background and stops it at cleanup.
func runAgent(t testing.TB, cfg Config) (stop func()) {
	t.Helper()
	a, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		a.Close()
	}
	t.Cleanup(stop)
	return stop
}

// tree maps each file's slash path to its content hash and each directory
// to "dir", skipping agent temporaries.
func tree(t testing.TB, root string) map[string]string {
	t.Helper()
	out := make(map[string]string)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(d.Name(), ".syncagent-") {
			out[rel] = "TEMP"
			return nil
		}
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			out[rel] = "unreadable"
			return nil
		}
		sum := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(sum[:8])
		return nil
	})
	return out
}

func diffTrees(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, k+": "+v+" vs "+b[k])
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k+": missing vs "+v)
		}
	}
	sort.Strings(d)
	return d
}

// waitSame waits (bounded) until the two trees are identical.
func waitSame(t testing.TB, local, remote string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var d []string
	for time.Now().Before(deadline) {
		d = diffTrees(tree(t, local), tree(t, remote))
		if len(d) == 0 {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("trees did not converge in 30s:\n%s", strings.Join(d, "\n"))
}

func putFile(t testing.TB, p string, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
