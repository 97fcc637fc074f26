package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPutLsGet sends a file to the real server, lists it and receives it
// back, through the aliases too.
func TestPutLsGet(t *testing.T) {
	e := startVersionsEnv(t)
	src := filepath.Join(t.TempDir(), "report.txt")
	content := strings.Repeat("syncagent ad hoc transfer\n", 5000)
	if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := e.run(t, "put", "-server", "backup", "-config", e.config, src, "/inbox/")
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if !strings.Contains(out, "sent 130000 bytes") || !strings.Contains(out, "SHA-256 (HASH)") {
		t.Errorf("put confirmation: %q", out)
	}
	if got := readString(t, filepath.Join(e.home, "inbox", "report.txt")); got != content {
		t.Errorf("server has %d bytes, want %d", len(got), len(content))
	}
	out, err = e.run(t, "ls", "-server", "backup", "-config", e.config, "/inbox")
	if err != nil || !strings.Contains(out, "130000") || !strings.Contains(out, "report.txt") {
		t.Errorf("ls: %v\n%s", err, out)
	}
	dst := filepath.Join(t.TempDir(), "copy.txt")
	out, err = e.run(t, "recv", "-server", "backup", "-config", e.config, "/inbox/report.txt", dst)
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	if !strings.Contains(out, "received 130000 bytes") {
		t.Errorf("get confirmation: %q", out)
	}
	if readString(t, dst) != content {
		t.Error("downloaded content differs")
	}
	out, err = e.run(t, "send", "-server", "backup", "-config", e.config, src)
	if err != nil || !strings.Contains(out, "to /report.txt") {
		t.Errorf("send without remote path: %v %q", err, out)
	}
}

func TestTransferErrors(t *testing.T) {
	e := startVersionsEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "-config", e.config, "/x"}, "-server NAME is required"},
		{[]string{"get", "-server", "nope", "-config", e.config, "/x"}, `no server "nope"`},
		{[]string{"get", "-server", "backup", "-config", e.config, "/missing.txt", filepath.Join(t.TempDir(), "m")}, "missing.txt"},
		{[]string{"put", "-server", "backup", "-config", e.config, filepath.Join(t.TempDir(), "absent")}, "no such file"},
	} {
		_, err := e.run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		} else if strings.HasPrefix(err.Error(), "get ") && strings.Contains(err.Error(), "download ") {
			t.Errorf("%v: the path is wrapped twice: %v", tc.args, err)
		}
	}
}

// TestConfigErrorsStopEarly: a bad config names the key and value, and
// the command exits before touching anything (no state database).
func TestConfigErrorsStopEarly(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	for _, tc := range []struct{ yaml, want string }{
		{"state: " + state + "\nbogus_key: 1\n", "bogus_key"},
		{"state: " + state + "\nservers:\n  s:\n    address: \"127.0.0.1:1\"\n    user: u\n    password: p\nfolders:\n  - name: f\n    path: " + dir +
			"\n    server: s\n    remote: /r\n    mode: sideways\n", "sideways"},
	} {
		cfg := filepath.Join(dir, "agent.yaml")
		if err := os.WriteFile(cfg, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"sync", "run", "install"} {
			var e versionsEnv
			_, err := e.run(t, cmd, "-config", cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s with %q: error %v, want one naming %q", cmd, tc.want, err, tc.want)
			}
			if _, err := os.Stat(state); err == nil {
				t.Fatalf("%s created the state database despite a bad config", cmd)
			}
		}
	}
}
