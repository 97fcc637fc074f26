package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// withBWLimit sets the server's bwlimit in the environment's config.
func withBWLimit(t *testing.T, e *versionsEnv, limit string) {
	t.Helper()
	b, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(b), "    password: secret\n", "    password: secret\n    bwlimit: \""+limit+"\"\n", 1)
	if err := os.WriteFile(e.config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPutAndGetHonourBWLimit: put and get through the real server take
// at least the time the limit allows (a loaded machine can only make them
// slower, so the upper bound is generous).
func TestPutAndGetHonourBWLimit(t *testing.T) {
	e := startVersionsEnv(t)
	withBWLimit(t, e, "1M:512K")
	src := filepath.Join(t.TempDir(), "big.bin")
	const size = 768 << 10
	if err := os.WriteFile(src, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(what string, rate float64, run func() error) {
		t.Helper()
		start := time.Now()
		if err := run(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		el := time.Since(start).Seconds()
		want := size/rate - 0.1 // less the limiter's 100 ms burst
		t.Logf("%s of 768 KiB at %.0f KiB/s: %.2f s (%.0f KiB/s)", what, rate/1024, el, size/el/1024)
		if el < want*0.85 || el > want*10+5 {
			t.Errorf("%s took %.2f s, want about %.2f s", what, el, want)
		}
	}
	check("put", 1<<20, func() error {
		_, err := e.run(t, "put", "-server", "backup", "-config", e.config, src, "/big.bin")
		return err
	})
	check("get", 512<<10, func() error {
		_, err := e.run(t, "get", "-server", "backup", "-config", e.config, "/big.bin", filepath.Join(t.TempDir(), "b"))
		return err
	})
}

// TestStatusShowsBWLimit: the servers table shows the limit in force.
func TestStatusShowsBWLimit(t *testing.T) {
	e := startVersionsEnv(t)
	withBWLimit(t, e, "00:00,10M:2M 23:59,10M:2M")
	runStatusAgent(t, e)
	out, err := e.run(t, "status", "-config", e.config)
	if err != nil || !strings.Contains(out, "10M:2M since ") {
		t.Errorf("status: %v, want the limit in force:\n%s", err, out)
	}
}
