package testenv

import (
	"testing"
)

func TestLookPathFindsAShell(t *testing.T) {
	if p := LookPath(t, "sh"); p == "" {
		t.Fatal("LookPath returned an empty path for sh")
	}
}

// fakeTB records how a test ended without ending the real one.
type fakeTB struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Skipf(string, ...any)  { f.skipped = true }
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }

func TestMissingSkipsOrFails(t *testing.T) {
	t.Setenv(RequireEnv, "")
	f := &fakeTB{}
	Missing(f, "x")
	if !f.skipped || f.failed {
		t.Fatalf("without %s: skipped=%v failed=%v, want a skip", RequireEnv, f.skipped, f.failed)
	}
	t.Setenv(RequireEnv, "1")
	f = &fakeTB{}
	LookPath(f, "no-such-tool-syncagent-test")
	if !f.failed || f.skipped {
		t.Fatalf("with %s=1: skipped=%v failed=%v, want a failure", RequireEnv, f.skipped, f.failed)
	}
}
