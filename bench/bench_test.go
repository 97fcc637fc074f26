//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSmoke runs the whole harness at tiny sizes so it cannot rot. It
// checks that every scenario produced its table, never how fast anything
// was. Peer servers that need a local system user run only when
// SYNCBENCH_SYSTEM_PEERS is set, so `go test ./...` never adds users.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs both binaries")
	}
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	o := options{Smoke: true, Out: out, SystemPeers: os.Getenv("SYNCBENCH_SYSTEM_PEERS") != "", Progress: testWriter{t}}
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, title := range []string{"## 1. Initial push", "## 2. One", "## 3. Change latency", "## 4. Steady state", "## 5. Server under load"} {
		i := strings.Index(md, title)
		if i < 0 {
			t.Errorf("report has no section %q:\n%s", title, md)
			continue
		}
		sec := md[i:]
		if j := strings.Index(sec[3:], "\n## "); j >= 0 {
			sec = sec[:j+3]
		}
		if !strings.Contains(sec, "| --- |") {
			t.Errorf("section %q has no table:\n%s", title, sec)
		}
		if strings.Contains(sec, "scenario failed") {
			t.Errorf("section %q failed:\n%s", title, sec)
		}
	}
	for _, want := range []string{"CPU:", "Kernel:", "Go:", "Date:"} {
		if !strings.Contains(md, want) {
			t.Errorf("report does not describe the machine (%q missing)", want)
		}
	}
	t.Log(md)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
