package configs

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/server"
)

func TestServerExample(t *testing.T) {
	const hash = "$2a$10$uTIkB5Vfz5yvvoDSdR25o.j3lBGASfO4ny2JT5G.VXmVqn5LHXGR6"
	t.Setenv("SYNCSERVER_BACKUP_HASH", hash)
	c, err := server.LoadConfig("server.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Users) != 2 {
		t.Fatalf("want the example's 2 users, got %d", len(c.Users))
	}
	// The comment promises this hash is of "change-me".
	if err := bcrypt.CompareHashAndPassword([]byte(c.Users[0].PasswordHash), []byte("change-me")); err != nil {
		t.Errorf("example hash is not of \"change-me\": %v", err)
	}
	if c.Users[1].PasswordHash != hash || c.Users[1].Home != "backup" {
		t.Errorf("second user: %+v", c.Users[1])
	}
	// The example documents the defaults: apart from users it equals them.
	want := server.DefaultConfig()
	c.Users = nil
	if c.Listen != want.Listen || c.PassivePorts != want.PassivePorts || c.TLS != want.TLS ||
		c.Limits != want.Limits || c.Versions != want.Versions || c.Log != want.Log {
		t.Errorf("example differs from DefaultConfig:\n got %+v\nwant %+v", c, want)
	}
}

func TestServerExampleNeedsItsVariable(t *testing.T) {
	t.Setenv("SYNCSERVER_BACKUP_HASH", "") // restores the variable after the test
	os.Unsetenv("SYNCSERVER_BACKUP_HASH")
	_, err := server.LoadConfig("server.yaml")
	if err == nil || !strings.Contains(err.Error(), "${SYNCSERVER_BACKUP_HASH} is not set") {
		t.Errorf("want the unset variable named, got %v", err)
	}
}

func TestAgentExample(t *testing.T) {
	t.Setenv("SYNCAGENT_PASSWORD", "example-password")
	// The example's password_file is an absolute path that will not exist
	// here; validate the example as written, then load a copy that points
	// password_file at a real file.
	data, err := os.ReadFile("agent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pw := filepath.Join(dir, "offsite.password")
	if err := os.WriteFile(pw, []byte("offsite-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const examplePW = "/etc/syncagent/offsite.password"
	if !strings.Contains(string(data), examplePW) {
		t.Fatalf("agent.yaml no longer mentions %s; update this test", examplePW)
	}
	copyPath := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(copyPath, []byte(strings.ReplaceAll(string(data), examplePW, pw)), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := agent.LoadConfig(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Servers["backup"].Password; got != "example-password" {
		t.Errorf("backup password = %q", got)
	}
	if got := c.Servers["offsite"].Password; got != "offsite-secret" {
		t.Errorf("offsite password = %q", got)
	}
	if len(c.Folders) != 2 || c.Folders[1].MaxDelete != agent.DefaultMaxDelete || c.Folders[1].Poll.D() != agent.DefaultPoll {
		t.Errorf("folders: %+v", c.Folders)
	}
	want := agent.DefaultConfig()
	if (runtime.GOOS != "windows" && c.State != want.State) || c.StatusListen != want.StatusListen {
		t.Errorf("example differs from DefaultConfig: state %q, status_listen %q", c.State, c.StatusListen)
	}
}
