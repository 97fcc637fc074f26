package svc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/testbin"
	"github.com/syncagent/syncagent/internal/testenv"
	"github.com/syncagent/syncagent/internal/testserver"
)

// TestServiceRoundTrip installs syncserver and syncagent as real services
// of this machine's service manager, each with a config whose secret comes
// from a variable of the installing environment, and runs them: the agent
// uploads a file to the server. It then checks by PID that a second start
// runs no second copy, that restart replaces each process, and that stop
// and uninstall leave nothing behind.
func TestServiceRoundTrip(t *testing.T) {
	testenv.NeedRoot(t, "installs and starts system services")
	switch Platform() {
	case "unix-systemv", "linux-systemd":
	default:
		testenv.Missing(t, "no SysV or systemd service manager here (kardianos picked %q)", Platform())
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freeLoopbackPort(t)

	t.Setenv("SVCTEST_HASH", testserver.Hash("svc secret"))
	srvCfg := filepath.Join(dir, "server.yaml")
	writeFile(t, srvCfg, fmt.Sprintf(`listen: "%s"
root: %q
passive_ports: ""
users:
  - name: alice
    password_hash: "${SVCTEST_HASH}"
`, port, filepath.Join(dir, "root")))
	server := serviceUnder(t, "syncserver-svcrun", "github.com/syncagent/syncagent/cmd/syncserver", srvCfg)

	t.Setenv("SVCTEST_PASSWORD", "svc secret")
	agentCfg := filepath.Join(dir, "agent.yaml")
	local := filepath.Join(dir, "local")
	writeFile(t, filepath.Join(local, "hello.txt"), "hello from the service\n")
	writeFile(t, agentCfg, fmt.Sprintf(`state: %q
status_listen: ""
servers:
  home:
    address: "%s"
    user: alice
    password: "${SVCTEST_PASSWORD}"
folders:
  - name: docs
    path: %q
    server: home
    remote: /docs
    mode: push
`, filepath.Join(dir, "state.db"), port, local))
	agent := serviceUnder(t, "syncagent-svcrun", "github.com/syncagent/syncagent/cmd/syncagent", agentCfg)

	for _, s := range []*testService{server, agent} {
		s.install(t)
		b, err := os.ReadFile(EnvPath(s.spec))
		if err != nil {
			t.Fatalf("environment file: %v", err)
		}
		if fi, _ := os.Stat(EnvPath(s.spec)); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", EnvPath(s.spec), fi.Mode().Perm())
		}
		if !strings.Contains(string(b), s.spec.Env[0]+"=") {
			t.Errorf("%s lacks %s:\n%s", EnvPath(s.spec), s.spec.Env[0], b)
		}
		s.control(t, "start")
	}
	waitFor(t, "syncserver to answer on "+port, func() bool {
		c, err := net.DialTimeout("tcp", port, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	uploaded := filepath.Join(dir, "root", "alice", "docs", "hello.txt")
	waitFor(t, "the agent service to upload hello.txt", func() bool {
		b, err := os.ReadFile(uploaded)
		return err == nil && string(b) == "hello from the service\n"
	})

	for _, s := range []*testService{server, agent} {
		first := s.onePID(t)
		if st, err := Status(s.spec); err != nil || st != "running" {
			t.Errorf("%s status = %q, %v; want running", s.spec.Name, st, err)
		}
		if err := Control(s.spec, "start"); !errors.Is(err, ErrRunning) {
			t.Errorf("%s: second start: %v, want ErrRunning", s.spec.Name, err)
		}
		if got := s.onePID(t); got != first {
			t.Errorf("%s: second start replaced pid %d by %d", s.spec.Name, first, got)
		}
		family := s.family(t)
		s.control(t, "restart")
		second := s.onePID(t)
		if second == first {
			t.Errorf("%s: restart kept pid %d", s.spec.Name, first)
		}
		checkGone(t, s.spec.Name+" restart", family)
		if loc := LogLocation(s.spec); strings.HasPrefix(loc, "/") {
			waitFor(t, "a log line in "+loc, func() bool {
				b, _ := os.ReadFile(loc)
				return strings.Contains(string(b), "running") || strings.Contains(string(b), "listening")
			})
		}
	}
	for _, s := range []*testService{agent, server} {
		family := s.family(t)
		s.control(t, "stop")
		checkGone(t, s.spec.Name+" stop", family)
		if pids := s.pids(); len(pids) > 0 {
			t.Errorf("%s: processes %v still run its config after stop", s.spec.Name, pids)
		}
		if st, err := Status(s.spec); err != nil || st != "stopped" {
			t.Errorf("%s status after stop = %q, %v; want stopped", s.spec.Name, st, err)
		}
		s.control(t, "uninstall")
		if _, err := os.Stat(EnvPath(s.spec)); err == nil {
			t.Errorf("%s survives uninstall", EnvPath(s.spec))
		}
	}
}

// testService is one program installed under a test name.
type testService struct {
	spec Spec
}

func serviceUnder(t *testing.T, name, pkg, cfg string) *testService {
	refs, err := config.References(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &testService{spec: Spec{Name: name, DisplayName: name, Description: "Installed by internal/svc tests.",
		ConfigPath: cfg, Executable: testbin.Path(t, pkg), Env: refs}}
	if p := DefinitionPath(s.spec); p != "" {
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("%s exists before the test; remove it by hand", p)
		}
	}
	logFile := "/var/log/" + name + ".log"
	os.Remove(logFile)
	t.Cleanup(func() {
		defer os.Remove(logFile)
		Control(s.spec, "stop")
		Control(s.spec, "uninstall")
		for _, pid := range s.pids() {
			t.Errorf("%s: pid %d left running; killing it", name, pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return s
}

func (s *testService) install(t *testing.T) {
	t.Helper()
	if err := Control(s.spec, "install"); err != nil {
		t.Fatalf("install %s on %s: %v", s.spec.Name, Platform(), err)
	}
}

func (s *testService) control(t *testing.T, action string) {
	t.Helper()
	if err := Control(s.spec, action); err != nil {
		t.Fatalf("%s %s: %v", action, s.spec.Name, err)
	}
}

// pids lists the processes running this service's program with its config.
func (s *testService) pids() []int {
	var out []int
	for _, p := range allProcs() {
		if p.exe == s.spec.Executable && slices.Contains(p.args, s.spec.ConfigPath) && p.state != "Z" {
			out = append(out, p.pid)
		}
	}
	return out
}

// onePID waits until exactly one process runs the program and returns it.
func (s *testService) onePID(t *testing.T) int {
	t.Helper()
	var pids []int
	waitFor(t, s.spec.Name+" to run as one process", func() bool {
		pids = s.pids()
		return len(pids) == 1
	})
	// A second copy started late would show up now.
	if again := s.pids(); len(again) != 1 {
		t.Fatalf("%s runs as %v", s.spec.Name, again)
	}
	return pids[0]
}

// family is the program and every process of the service around it: the
// supervising shell and its children (logger, sleep), by PID.
func (s *testService) family(t *testing.T) []int {
	t.Helper()
	prog := s.onePID(t)
	procs := allProcs()
	byPID := map[int]proc{}
	for _, p := range procs {
		byPID[p.pid] = p
	}
	// Climb from the program through the shells running the init script
	// (none under systemd), then take everything below the topmost.
	top := prog
	for {
		pp, ok := byPID[byPID[top].ppid]
		if !ok || !slices.Contains(pp.args, DefinitionPath(s.spec)) {
			break
		}
		top = pp.pid
	}
	fam := []int{top}
	for changed := true; changed; {
		changed = false
		for _, p := range procs {
			if slices.Contains(fam, p.ppid) && !slices.Contains(fam, p.pid) {
				fam = append(fam, p.pid)
				changed = true
			}
		}
	}
	if !slices.Contains(fam, prog) {
		t.Fatalf("%s: program %d not in its family %v", s.spec.Name, prog, fam)
	}
	return fam
}

func checkGone(t *testing.T, what string, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if p, ok := procOf(pid); ok && p.state != "Z" {
			t.Errorf("%s: pid %d (%s %v) still runs", what, pid, p.exe, p.args)
		}
	}
}

type proc struct {
	pid, ppid int
	state     string
	exe       string
	args      []string
}

func allProcs() []proc {
	ents, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := procOf(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

func procOf(pid int) (proc, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 2 {
		return proc{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	p := proc{pid: pid, ppid: ppid, state: f[0]}
	if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && len(cmd) > 0 {
		parts := strings.Split(strings.TrimSuffix(string(cmd), "\x00"), "\x00")
		p.exe, p.args = parts[0], parts[1:]
	}
	return p, true
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 600 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func freeLoopbackPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
