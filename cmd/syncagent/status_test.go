package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/testenv"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/status"
)

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// runStatusAgent runs an agent with a status endpoint over the versions
// environment's config and returns the endpoint's address.
func runStatusAgent(t *testing.T, e *versionsEnv) string {
	addr := freeAddr(t)
	b, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(b), `status_listen: ""`, "status_listen: "+addr, 1)
	if err := os.WriteFile(e.config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(e.local, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.local, "a.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := agent.LoadConfig(e.config)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	waitFor(t, "a synced folder in the status", func() bool {
		rep, err := status.Fetch(context.Background(), nil, addr)
		return err == nil && len(rep.Folders) == 1 && !rep.Folders[0].LastSync.IsZero()
	})
	return addr
}

// conflictCopy is the name of a conflict copy of notes.txt, as the agent
// names them.
var conflictCopy = plan.ConflictName("notes.txt", time.Date(2026, 12, 2, 15, 4, 5, 0, time.UTC), "")

// badName is a file name syncserver refuses (a backslash).
const badName = `back\slash.txt`

// withDetails puts in the synced folder what status lists per folder: a
// conflict copy and a file the server refuses.
func withDetails(t *testing.T, e *versionsEnv) {
	t.Helper()
	writeFiles(t, e.local, map[string]string{"notes.txt": "theirs", conflictCopy: "mine", badName: "refused"})
}

// TestStatusListsFolderDetails: status (text and JSON) lists per folder
// its local path, mode and remote, the failing paths with their error,
// the conflict copies, times with their zone; the servers table shows the
// capabilities in use (no TLS on a tls: none connection).
func TestStatusListsFolderDetails(t *testing.T) {
	e := startVersionsEnv(t)
	withDetails(t, e)
	addr := runStatusAgent(t, e)
	waitFor(t, "the failing path", func() bool {
		rep, err := status.Fetch(context.Background(), nil, addr)
		return err == nil && len(rep.Folders[0].Problems) == 1
	})
	out, err := e.run(t, "status", "-config", e.config)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, want := range []string{
		"docs: " + e.local + " <-> backup:/docs (push)",
		"idle, 1 failing",
		"failing " + badName + ": ",
		"conflict copy " + conflictCopy + " (of notes.txt, " + status.FormatTime(time.Date(2026, 12, 2, 15, 4, 5, 0, time.UTC)) + ")",
		"MLSD HASH MFMT",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "TLS") {
		t.Errorf("status shows TLS for a tls: none connection:\n%s", out)
	}
	out, err = e.run(t, "status", "-json", "-config", e.config)
	if err != nil {
		t.Fatal(err)
	}
	var rep status.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	f := rep.Folders[0]
	if f.Path != e.local || f.Mode != "push" || f.Remote != "/docs" || len(f.Problems) != 1 || f.Problems[0].Path != badName ||
		f.Problems[0].Error == "" || len(f.ConflictCopies) != 1 || f.ConflictCopies[0].Original != "notes.txt" {
		t.Errorf("status -json folder: %+v", f)
	}
}

func TestStatusCommand(t *testing.T) {
	e := startVersionsEnv(t)
	addr := runStatusAgent(t, e)

	out, err := e.run(t, "status", "-config", e.config)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, want := range []string{"FOLDER", "docs", "idle", "backup", "yes", "MLSD HASH MFMT"} {
		if !strings.Contains(out, want) {
			t.Errorf("status table lacks %q:\n%s", want, out)
		}
	}
	out, err = e.run(t, "status", "-json", "-config", e.config)
	if err != nil {
		t.Fatalf("status -json: %v", err)
	}
	var rep status.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("status -json is not JSON: %v\n%s", err, out)
	}
	if rep.Folders[0].Name != "docs" || rep.Folders[0].Uploaded != 1 || !rep.Servers[0].Connected {
		t.Errorf("unexpected report: %+v", rep)
	}

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`syncagent_files_transferred_total{direction="upload",folder="docs"} 1`,
		`syncagent_bytes_transferred_total{direction="upload",folder="docs"} 5`,
		`syncagent_last_sync_timestamp_seconds{folder="docs"}`,
		`syncagent_queue_length{folder="docs"} 0`,
		`syncagent_change_latency_seconds_bucket`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(string(body), "go_goroutines") {
		t.Error("/metrics serves the default registry's collectors")
	}
}

func TestStatusNoAgent(t *testing.T) {
	e := startVersionsEnv(t)
	b, _ := os.ReadFile(e.config)
	yaml := strings.Replace(string(b), `status_listen: ""`, "status_listen: "+freeAddr(t), 1)
	os.WriteFile(e.config, []byte(yaml), 0o600)
	_, err := e.run(t, "status", "-config", e.config)
	if err == nil || !strings.Contains(err.Error(), "no agent is running") || exitCode(err, io.Discard) != exitNoAgent {
		t.Errorf("status without an agent: %v (exit %d), want exit %d", err, exitCode(err, io.Discard), exitNoAgent)
	}
}

// TestStatusExitCodes: status exits 0 while every folder is well and 3
// once a folder is in error (here its local folder vanished), printing
// the table either way.
func TestStatusExitCodes(t *testing.T) {
	e := startVersionsEnv(t)
	b, _ := os.ReadFile(e.config)
	os.WriteFile(e.config, append(b, "    poll: 100ms\n"...), 0o600)
	runStatusAgent(t, e)
	out, err := e.run(t, "status", "-config", e.config)
	if code := exitCode(err, io.Discard); code != 0 || !strings.Contains(out, "idle") {
		t.Fatalf("status of a healthy agent: exit %d (%v)\n%s", code, err, out)
	}
	if err := os.Rename(e.local, e.local+".moved"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the folder in error", func() bool {
		_, err := e.run(t, "status", "-config", e.config)
		return err != nil
	})
	out, err = e.run(t, "status", "-config", e.config)
	if code := exitCode(err, io.Discard); code != exitFolderError || !strings.Contains(out, "error") ||
		!strings.Contains(err.Error(), "docs") {
		t.Errorf("status with a folder in error: exit %d (%v), want %d\n%s", code, err, exitFolderError, out)
	}
}

// TestStatusPageInChromium loads GET / in headless Chromium: the DOM it
// renders names the folder, and a screenshot is taken.
func TestStatusPageInChromium(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		testenv.Missing(t, "needs Debian's chromium package (/usr/bin/chromium); CI installs it")
	}
	e := startVersionsEnv(t)
	withDetails(t, e)
	addr := runStatusAgent(t, e)
	waitFor(t, "the failing path", func() bool {
		rep, err := status.Fetch(context.Background(), nil, addr)
		return err == nil && len(rep.Folders[0].Problems) == 1
	})
	// go test -artifacts keeps the screenshot.
	shot := filepath.Join(t.ArtifactDir(), "status-page.png")
	args := func(extra ...string) []string {
		return append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--window-size=1400,900"}, append(extra, "http://"+addr+"/")...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dom, err := exec.CommandContext(ctx, chromium, args("--dump-dom")...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, want := range []string{`<td class="name">docs</td>`, "backup", "syncagent status",
		`<ul class="failing"><li><span class="path">` + strings.ReplaceAll(badName, `\`, `\`) + `</span>`,
		`<ul class="conflicts"><li><span class="path">` + conflictCopy + `</span>`,
		`<td class="path">` + e.local + `</td>`, `<td class="path">backup:/docs</td>`} {
		if !strings.Contains(string(dom), want) {
			t.Errorf("rendered DOM lacks %q:\n%s", want, dom)
		}
	}
	if out, err := exec.CommandContext(ctx, chromium, args("--screenshot="+shot)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if len(png) < 2000 || string(png[1:4]) != "PNG" {
		t.Errorf("screenshot is %d bytes, not a real page", len(png))
	}
	t.Logf("screenshot of the status page with its lists: %s", shot)
}

// TestStatusNeedsNoSecret runs status over a config whose password comes
// from a variable this shell does not have, as when the service got it
// from its environment file: status needs only status_listen.
func TestStatusNeedsNoSecret(t *testing.T) {
	e := startVersionsEnv(t)
	runStatusAgent(t, e)
	b, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(b), "password: secret", `password: "${SYNCAGENT_STATUS_TEST_UNSET}"`, 1)
	if err := os.WriteFile(e.config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Unsetenv("SYNCAGENT_STATUS_TEST_UNSET")
	out, err := e.run(t, "status", "-config", e.config)
	if err != nil {
		t.Fatalf("status without the password's variable: %v", err)
	}
	if !strings.Contains(out, "docs") {
		t.Errorf("status table lacks the folder:\n%s", out)
	}
}
