// Package testenv decides what a test does when something it needs from the
// machine is missing: a tool (vsftpd, lftp, chromium), root, or a kernel
// feature. On a developer's machine the test is skipped with the reason; in
// CI, where .ci/run installs everything and sets SYNCAGENT_REQUIRE_TOOLS=1,
// the same reason fails the test, so a missing install step turns CI red
// instead of silently running fewer tests. Only tests import it.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireEnv is the environment variable that turns Missing into a failure.
const RequireEnv = "SYNCAGENT_REQUIRE_TOOLS"

// Required reports whether missing requirements fail tests instead of
// skipping them.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Missing ends the test because a requirement is absent: a skip normally,
// a failure when Required. Safe to call from any test goroutine that may
// call t.Skip.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf("required by "+RequireEnv+"=1: "+format, args...)
		return
	}
	t.Skipf(format, args...)
}

// LookPath returns the path of the named executable, or ends the test
// through Missing when it is not installed.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s is not installed: %v", name, err)
	}
	return p
}

// NeedRoot ends the test through Missing unless it runs as root; why says
// what needs it ("mounts a tmpfs").
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root: %s", why)
	}
}
