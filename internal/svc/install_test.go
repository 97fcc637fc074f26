package svc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncagent/syncagent/internal/testenv"
)

// TestInstallRefusesGoRunBinaries runs a program with go run, twice (the
// first links in a go-build temporary directory, the second may come from
// the build cache), and checks that install refuses either binary, saying
// how to build one that lasts.
func TestInstallRefusesGoRunBinaries(t *testing.T) {
	goTool := testenv.LookPath(t, "go")
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "go.mod"), "module gorunprobe\n\ngo 1.26\n")
	writeTestFile(t, filepath.Join(dir, "main.go"),
		"package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\te, _ := os.Executable()\n\tfmt.Print(e)\n}\n")
	for i := range 2 {
		cmd := exec.Command(goTool, "run", ".")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go run: %v", err)
		}
		exe := string(out)
		sp := testSpec(t)
		sp.Executable = exe
		err = Control(sp, "install")
		if err == nil {
			Control(sp, "uninstall")
			t.Fatalf("run %d: install accepted %s", i, exe)
		}
		if !strings.Contains(err.Error(), "go run") || !strings.Contains(err.Error(), "go build -o") {
			t.Errorf("run %d: refusal %q does not say what to do", i, err)
		}
	}
	if builtByGoRun("/usr/local/bin/syncagent") || builtByGoRun("/home/go-builder/bin/syncagent") {
		t.Error("an installed binary is taken for a go run one")
	}
}

// TestInstallRefusesUnsetVariable checks that install names a variable the
// config needs and the installing environment lacks, before it writes
// anything.
func TestInstallRefusesUnsetVariable(t *testing.T) {
	sp := testSpec(t)
	sp.Env = []string{"SVCTEST_SURELY_UNSET"}
	os.Unsetenv("SVCTEST_SURELY_UNSET")
	err := Control(sp, "install")
	if err == nil {
		Control(sp, "uninstall")
		t.Fatal("install accepted a config whose variable is not set")
	}
	if !strings.Contains(err.Error(), "${SVCTEST_SURELY_UNSET}") {
		t.Errorf("refusal %q does not name the variable", err)
	}
	if p := DefinitionPath(sp); p != "" {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s written although install refused", p)
		}
	}
}

// TestEnvQuoteRoundTripsThroughSh writes values that shells and systemd
// treat specially into an environment file as install does, then has sh
// read it the way the init script does, and compares.
func TestEnvQuoteRoundTripsThroughSh(t *testing.T) {
	sh := testenv.LookPath(t, "sh")
	vals := map[string]string{
		"A": `pa$$word "quoted" 'single' \back\slash`,
		"B": "$2a$10$uTIkB5Vfz5yvvoDSdR25o.j3lBGASfO4ny2JT5G",
		"C": "`not a command` $(nor this) ${NOR_THIS}",
		"D": "",
	}
	var b strings.Builder
	for _, k := range []string{"A", "B", "C", "D"} {
		b.WriteString(k + "=" + envQuote(vals[k]) + "\n")
	}
	file := filepath.Join(t.TempDir(), "env")
	writeTestFile(t, file, b.String())
	for _, k := range []string{"A", "B", "C", "D"} {
		out, err := exec.Command(sh, "-c", `set -a; . "$0"; set +a; exec printenv `+k, file).Output()
		if err != nil && vals[k] != "" {
			t.Fatalf("sh reading %s: %v", k, err)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != vals[k] {
			t.Errorf("%s: sh read %q, want %q", k, got, vals[k])
		}
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
