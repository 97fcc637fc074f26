package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunLogsRunningOnlyOnceBound: with status_listen taken, run exits 1
// naming the key and never logs that it is running.
func TestRunLogsRunningOnlyOnceBound(t *testing.T) {
	addr, _ := startSyncServer(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	local := filepath.Join(dir, "docs")
	writeFiles(t, local, map[string]string{"a.txt": "a"})
	cfg := writeSyncConfig(t, dir, addr, []syncFolder{{"docs", local}}, "")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), `status_listen: ""`, `status_listen: "`+taken.Addr().String()+`"`, 1)), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, syncagentBin(t), "run", "-config", cfg).CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || strings.Contains(string(out), "running") || !strings.Contains(string(out), "status_listen") {
		t.Fatalf("run with status_listen taken: %v, want exit 1 naming status_listen, no \"running\":\n%s", err, out)
	}
}
