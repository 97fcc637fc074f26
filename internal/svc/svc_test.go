package svc

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/syncagent/syncagent/internal/testenv"
)

func testSpec(t *testing.T) Spec {
	cfg := filepath.Join(t.TempDir(), "test.yaml")
	if err := os.WriteFile(cfg, []byte("x: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Spec{
		Name:        "syncagent-svctest",
		DisplayName: "syncagent service test",
		Description: "Installed and removed by internal/svc tests.",
		ConfigPath:  cfg,
		Executable:  "/bin/true",
	}
}

// TestConfigArguments checks what every platform's definition is built
// from: the absolute config path and the restart options.
func TestConfigArguments(t *testing.T) {
	sp := testSpec(t)
	sp.ConfigPath = "relative.yaml"
	c, err := sp.config()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	want := []string{"run", "-config", filepath.Join(wd, "relative.yaml")}
	if strings.Join(c.Arguments, " ") != strings.Join(want, " ") {
		t.Fatalf("arguments %q, want %q", c.Arguments, want)
	}
	for k, v := range map[string]any{"Restart": "always", "OnFailure": "restart", "StartType": "automatic",
		"KeepAlive": true, "RunAtLoad": true} {
		if c.Option[k] != v {
			t.Errorf("option %s = %v, want %v", k, c.Option[k], v)
		}
	}
}

// TestInstallRoundTrip installs a service for real, under a test name,
// on whatever service manager this machine has.
func TestInstallRoundTrip(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the install round trip runs on Linux (CI); other platforms are cross-built only")
	}
	testenv.NeedRoot(t, "installs a system service")
	sp := testSpec(t)
	def := DefinitionPath(sp)
	if def == "" {
		t.Skipf("service manager %q keeps no definition file", Platform())
	}
	if _, err := os.Lstat(def); err == nil {
		t.Fatalf("%s exists before the test; remove it by hand", def)
	}
	t.Cleanup(func() {
		if _, err := os.Lstat(def); err == nil {
			Control(sp, "uninstall")
		}
	})
	if err := Control(sp, "install"); err != nil {
		t.Fatalf("install on %s: %v", Platform(), err)
	}
	b, err := os.ReadFile(def)
	if err != nil {
		t.Fatalf("definition not written: %v", err)
	}
	text := strings.ReplaceAll(string(b), `"`, "")
	abs, _ := filepath.Abs(sp.ConfigPath)
	if !strings.Contains(text, "run -config "+abs) {
		t.Errorf("%s does not run %q:\n%s", def, "run -config "+abs, b)
	}
	var policy string
	switch Platform() {
	case "linux-systemd":
		policy = "Restart=always"
	case "unix-systemv":
		policy = `restart_policy=always`
	}
	if policy != "" && !strings.Contains(text, policy) {
		t.Errorf("%s has no restart policy %q:\n%s", def, policy, b)
	}
	if st, err := Status(sp); err != nil || st != "stopped" {
		t.Errorf("status after install = %q, %v; want stopped", st, err)
	}

	err = Control(sp, "install")
	if !errors.Is(err, ErrInstalled) || !strings.Contains(err.Error(), "already installed") {
		t.Errorf("second install: %v, want an already-installed error", err)
	}
	if err := Control(sp, "uninstall"); err != nil {
		t.Fatalf("uninstall: %v", err)
	}
	if _, err := os.Lstat(def); err == nil {
		t.Errorf("%s still exists after uninstall", def)
	}
	err = Control(sp, "uninstall")
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("second uninstall: %v, want a not-installed error", err)
	}
	if st, err := Status(sp); err != nil || st != "not installed" {
		t.Errorf("status after uninstall = %q, %v", st, err)
	}
}
