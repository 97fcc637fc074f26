package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
)

func validAgentConfig() Config {
	c := DefaultConfig()
	c.State = "/var/lib/syncagent/state.db"
	c.Servers = map[string]ServerConfig{
		"backup": {Address: "127.0.0.1:2121", User: "alice", Password: "pw", TLS: TLSNone, Connections: 4},
	}
	c.Folders = []FolderConfig{{
		Name: "docs", Path: "/home/alice/Documents", Server: "backup", Remote: "/docs", Mode: ModePush,
		Debounce: config.Duration(DefaultDebounce), Poll: config.Duration(DefaultPoll),
		Rescan: config.Duration(DefaultRescan), MaxDelete: "50%",
	}}
	return c
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAgentDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if c.StatusListen != "127.0.0.1:7777" || c.State == "" || DefaultConfigPath() == "" {
		t.Errorf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestAgentValidateRules(t *testing.T) {
	srv := func(c *Config, f func(*ServerConfig)) {
		s := c.Servers["backup"]
		f(&s)
		c.Servers["backup"] = s
	}
	second := func(c *Config, f func(*FolderConfig)) {
		g := c.Folders[0]
		g.Name, g.Path, g.Remote = "pics", "/home/alice/Pictures", "/pics"
		f(&g)
		c.Folders = append(c.Folders, g)
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"valid", func(*Config) {}, ""},
		{"state empty", func(c *Config) { c.State = "" }, "state: must be set"},
		{"state inside folder", func(c *Config) { c.State = "/home/alice/Documents/.state.db" }, "state: /home/alice/Documents/.state.db is inside folders[0].path"},
		{"status disabled", func(c *Config) { c.StatusListen = "" }, ""},
		{"status bad", func(c *Config) { c.StatusListen = "7777" }, "status_listen: must be host:port"},
		{"address empty", func(c *Config) { srv(c, func(s *ServerConfig) { s.Address = "" }) }, "servers.backup.address: must be set"},
		{"address no port", func(c *Config) { srv(c, func(s *ServerConfig) { s.Address = "ftp.example.com" }) }, "servers.backup.address: must be host:port"},
		{"address no host", func(c *Config) { srv(c, func(s *ServerConfig) { s.Address = ":21" }) }, "servers.backup.address: must name a host"},
		{"address port 0", func(c *Config) { srv(c, func(s *ServerConfig) { s.Address = "h:0" }) }, "servers.backup.address: port"},
		{"address ipv6", func(c *Config) { srv(c, func(s *ServerConfig) { s.Address = "[::1]:21" }) }, ""},
		{"user empty", func(c *Config) { srv(c, func(s *ServerConfig) { s.User = "" }) }, "servers.backup.user: must be set"},
		{"password and file", func(c *Config) { srv(c, func(s *ServerConfig) { s.PasswordFile = "/pw" }) }, "servers.backup.password_file: cannot be combined with password"},
		{"tls bad", func(c *Config) { srv(c, func(s *ServerConfig) { s.TLS = "starttls" }) }, `servers.backup.tls: must be none, explicit or implicit, got "starttls"`},
		{"tls explicit", func(c *Config) { srv(c, func(s *ServerConfig) { s.TLS, s.CAFile = TLSExplicit, "/ca.pem" }) }, ""},
		{"ca without tls", func(c *Config) { srv(c, func(s *ServerConfig) { s.CAFile = "/ca.pem" }) }, "servers.backup.ca_file: only applies with tls"},
		{"skip verify without tls", func(c *Config) { srv(c, func(s *ServerConfig) { s.InsecureSkipVerify = true }) }, "servers.backup.insecure_skip_verify: only applies"},
		{"client cert only", func(c *Config) {
			srv(c, func(s *ServerConfig) { s.TLS, s.ClientCert = TLSImplicit, "/c.pem" })
		}, "servers.backup.client_key: must be set when client_cert is"},
		{"client key only", func(c *Config) {
			srv(c, func(s *ServerConfig) { s.TLS, s.ClientKey = TLSImplicit, "/k.pem" })
		}, "servers.backup.client_cert: must be set when client_key is"},
		{"no password", func(c *Config) { srv(c, func(s *ServerConfig) { s.Password = "" }) }, "servers.backup.password: must be set"},
		{"certificate login", func(c *Config) {
			srv(c, func(s *ServerConfig) {
				s.Password, s.TLS, s.ClientCert, s.ClientKey = "", TLSExplicit, "/c.pem", "/k.pem"
			})
		}, ""},
		{"connections zero", func(c *Config) { srv(c, func(s *ServerConfig) { s.Connections = 0 }) }, "servers.backup.connections: must be from 1 to 64, got 0"},
		{"connections too many", func(c *Config) { srv(c, func(s *ServerConfig) { s.Connections = 65 }) }, "servers.backup.connections:"},
		{"folder name empty", func(c *Config) { c.Folders[0].Name = "" }, "folders[0].name: must be set"},
		{"folder name duplicate", func(c *Config) { second(c, func(f *FolderConfig) { f.Name = "docs" }) }, `folders[1].name: "docs" is already the name of folders[0]`},
		{"folder path empty", func(c *Config) { c.Folders[0].Path = "" }, "folders[0].path: must be set"},
		{"folder path relative", func(c *Config) { c.Folders[0].Path = "docs" }, "folders[0].path: \"docs\" must be absolute"},
		{"folder server unknown", func(c *Config) { c.Folders[0].Server = "bakup" }, `folders[0].server: "bakup" is not one of servers: backup`},
		{"folder server empty", func(c *Config) { c.Folders[0].Server = "" }, "folders[0].server: must name one of servers"},
		{"remote relative", func(c *Config) { c.Folders[0].Remote = "docs" }, `folders[0].remote: must be an absolute folder on the server, e.g. "/docs"`},
		{"remote empty", func(c *Config) { c.Folders[0].Remote = "" }, "folders[0].remote:"},
		{"remote unclean", func(c *Config) { c.Folders[0].Remote = "/docs/" }, `folders[0].remote: "/docs/" is not written plainly; write "/docs"`},
		{"remote root", func(c *Config) { c.Folders[0].Remote = "/" }, ""},
		{"mode bad", func(c *Config) { c.Folders[0].Mode = "mirror" }, `folders[0].mode: must be push, pull or two-way, got "mirror"`},
		{"mode empty", func(c *Config) { c.Folders[0].Mode = "" }, "folders[0].mode: must be push, pull or two-way"},
		{"mode pull", func(c *Config) { c.Folders[0].Mode = ModePull }, ""},
		{"mode two-way", func(c *Config) { c.Folders[0].Mode = ModeTwoWay }, ""},
		{"ignore ok", func(c *Config) { c.Folders[0].Ignore = []string{"*.tmp", "~$*", ".cache/"} }, ""},
		{"debounce negative", func(c *Config) { c.Folders[0].Debounce = -1 }, "folders[0].debounce: must be more than 0"},
		{"poll negative", func(c *Config) { c.Folders[0].Poll = -1 }, "folders[0].poll:"},
		{"rescan negative", func(c *Config) { c.Folders[0].Rescan = -1 }, "folders[0].rescan:"},
		{"max_delete count", func(c *Config) { c.Folders[0].MaxDelete = "200" }, ""},
		{"max_delete zero", func(c *Config) { c.Folders[0].MaxDelete = "0" }, ""},
		{"max_delete 100%", func(c *Config) { c.Folders[0].MaxDelete = "100%" }, ""},
		{"max_delete over 100%", func(c *Config) { c.Folders[0].MaxDelete = "150%" }, "folders[0].max_delete: must be a share"},
		{"max_delete negative", func(c *Config) { c.Folders[0].MaxDelete = "-1" }, "folders[0].max_delete:"},
		{"max_delete words", func(c *Config) { c.Folders[0].MaxDelete = "half" }, `folders[0].max_delete: must be a share like "50%" (0% to 100%) or a number of files like "200", got "half"`},
		{"max_delete fraction", func(c *Config) { c.Folders[0].MaxDelete = "0.5" }, "folders[0].max_delete:"},
		{"two folders apart", func(c *Config) { second(c, func(*FolderConfig) {}) }, ""},
		{"same path", func(c *Config) { second(c, func(f *FolderConfig) { f.Path = "/home/alice/Documents" }) }, "folders[1].path: /home/alice/Documents overlaps folders[0]"},
		{"path inside", func(c *Config) { second(c, func(f *FolderConfig) { f.Path = "/home/alice/Documents/sub" }) }, "folders[1].path:"},
		{"path outside", func(c *Config) { second(c, func(f *FolderConfig) { f.Path = "/home/alice" }) }, "folders[1].path:"},
		{"path prefix is not inside", func(c *Config) { second(c, func(f *FolderConfig) { f.Path = "/home/alice/Documents2" }) }, ""},
		{"same remote", func(c *Config) { second(c, func(f *FolderConfig) { f.Remote = "/docs" }) }, `folders[1].remote: /docs on server "backup" overlaps folders[0]`},
		{"remote inside", func(c *Config) { second(c, func(f *FolderConfig) { f.Remote = "/docs/pics" }) }, "folders[1].remote:"},
		{"remote root overlaps all", func(c *Config) { second(c, func(f *FolderConfig) { f.Remote = "/" }) }, "folders[1].remote:"},
		{"same remote on another server", func(c *Config) {
			c.Servers["other"] = c.Servers["backup"]
			second(c, func(f *FolderConfig) { f.Remote, f.Server = "/docs", "other" })
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validAgentConfig()
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want error containing %q, got none", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want error containing %q, got:\n%v", tt.want, err)
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error is not a *config.FieldError: %T", err)
			}
		})
	}
}

func TestMaxDeleteLimit(t *testing.T) {
	tests := []struct {
		max         string
		total, want int
	}{
		{"50%", 100, 50},
		{"50%", 3, 1},
		{"50%", 1, 0},
		{"0%", 100, 0},
		{"100%", 7, 7},
		{"200", 10, 200},
		{"0", 10, 0},
		{"", 10, 5},     // unvalidated: the default
		{"junk", 10, 5}, // unvalidated: the default
		{"50%", -1, 0},
	}
	for _, tt := range tests {
		if got := (FolderConfig{MaxDelete: tt.max}).MaxDeleteLimit(tt.total); got != tt.want {
			t.Errorf("MaxDeleteLimit(%q, %d) = %d, want %d", tt.max, tt.total, got, tt.want)
		}
	}
}

func TestAgentLoadConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	pwFile := writeFile(t, dir, "pw.txt", "s3cret\n")
	t.Setenv("SYNCAGENT_TEST_PASSWORD", `we"ird #pass`)
	p := writeFile(t, dir, "agent.yaml", `
state: state.db
servers:
  main:
    address: "ftp.example.com:21"
    user: alice
    password: "${SYNCAGENT_TEST_PASSWORD}"
  files:
    address: "127.0.0.1:2121"
    user: bob
    password_file: pw.txt
    tls: explicit
    connections: 8
folders:
  - name: docs
    path: Documents
    server: main
    remote: /docs
    mode: two-way
    ignore: ["*.tmp"]
  - name: pics
    path: `+filepath.Join(dir, "Pictures")+`
    server: files
    remote: /pics
    mode: pull
    debounce: 1s
    poll: 5m
    rescan: 6h
    max_delete: "10"
`)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != filepath.Join(dir, "state.db") || c.StatusListen != "127.0.0.1:7777" {
		t.Errorf("state %q, status_listen %q", c.State, c.StatusListen)
	}
	m, f := c.Servers["main"], c.Servers["files"]
	if m.Password != `we"ird #pass` || m.TLS != TLSNone || m.Connections != DefaultConnections {
		t.Errorf("server main: %+v", m)
	}
	if f.Password != "s3cret" || f.PasswordFile != "" || f.TLS != TLSExplicit || f.Connections != 8 {
		t.Errorf("server files (password file %s): %+v", pwFile, f)
	}
	d := c.Folders[0]
	if d.Path != filepath.Join(dir, "Documents") || d.Debounce.D() != DefaultDebounce ||
		d.Poll.D() != DefaultPoll || d.Rescan.D() != DefaultRescan || d.MaxDelete != DefaultMaxDelete {
		t.Errorf("folder defaults: %+v", d)
	}
	q := c.Folders[1]
	if q.Debounce.D() != time.Second || q.Poll.D() != 5*time.Minute || q.Rescan.D() != 6*time.Hour || q.MaxDelete != "10" {
		t.Errorf("folder overrides: %+v", q)
	}
	// A loaded config validates again: LoadConfig leaves nothing half-done.
	if err := c.Validate(); err != nil {
		t.Errorf("re-validate: %v", err)
	}
}

func TestAgentLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "empty.txt", "\n")
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "folders:\n  - name: a\n    exclude: [x]\n",
			[]string{`agent.yaml: line 3: unknown key "folders[0].exclude"`}},
		{"unknown server key", "servers:\n  main:\n    adress: h:21\n",
			[]string{`line 3: unknown key "servers.main.adress" (did you mean "servers.main.address"?)`}},
		{"bad duration", "folders:\n  - name: a\n    poll: often\n",
			[]string{`line 3: folders[0].poll: "often" is not a duration`}},
		{"unset password", "servers:\n  main:\n    address: h:21\n    user: u\n    password: ${SYNCAGENT_TEST_UNSET_PW}\n",
			[]string{`line 5: ${SYNCAGENT_TEST_UNSET_PW} is not set`}},
		{"validation lists all", "folders:\n  - name: a\n    path: /a\n    server: x\n    remote: a\n    mode: sync\n",
			[]string{"agent.yaml: folders[0].server:", "agent.yaml: folders[0].remote:", "agent.yaml: folders[0].mode:"}},
		{"missing password file", "servers:\n  main:\n    address: h:21\n    user: u\n    password_file: " + filepath.Join(dir, "nope") + "\n",
			[]string{"agent.yaml: servers.main.password_file:", "no such file"}},
		{"empty password file", "servers:\n  main:\n    address: h:21\n    user: u\n    password_file: " + filepath.Join(dir, "empty.txt") + "\n",
			[]string{"servers.main.password_file:", "is empty"}},
		{"bad ignore pattern", "servers:\n  s:\n    address: h:21\n    user: u\nfolders:\n  - {name: a, path: /a, server: s, remote: /a, mode: push, ignore: [\"[\"]}\n",
			[]string{"folders[0].ignore[0]:"}},
		{"connections 0", "servers:\n  s:\n    address: h:21\n    user: u\n    password: p\n    connections: 0\n",
			[]string{"agent.yaml: servers.s.connections: must be from 1 to 64, got 0"}},
		{"zero durations", "servers:\n  s: {address: \"h:21\", user: u, password: p}\nfolders:\n  - {name: a, path: /a, server: s, remote: /a, mode: push, poll: \"0s\", debounce: 0s, rescan: \"0h\"}\n",
			[]string{"agent.yaml: folders[0].poll: must be more than 0, got 0s", "folders[0].debounce: must be more", "folders[0].rescan: must be more"}},
		{"no password", "servers:\n  s:\n    address: h:21\n    user: u\n",
			[]string{"agent.yaml: servers.s.password: must be set (or password_file, or client_cert"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeFile(t, t.TempDir(), "agent.yaml", tt.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("want %q in:\n%v", w, err)
				}
			}
		})
	}
}

// TestAgentLoadConfigRelativeToFile loads a config from another directory:
// its relative paths are taken from the config file's folder, as the
// service (started from /) must find what the shell that wrote it meant.
func TestAgentLoadConfigRelativeToFile(t *testing.T) {
	cfgDir, elsewhere := t.TempDir(), t.TempDir()
	t.Chdir(elsewhere)
	writeFile(t, cfgDir, "pw.txt", "s3cret\n")
	p := writeFile(t, cfgDir, "agent.yaml", `
state: state/agent.db
servers:
  main: {address: "127.0.0.1:2121", user: alice, password_file: pw.txt}
folders:
  - {name: docs, path: Documents, server: main, remote: /docs, mode: push}
`)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cfgDir, "state", "agent.db"); c.State != want {
		t.Errorf("state = %q, want %q", c.State, want)
	}
	if want := filepath.Join(cfgDir, "Documents"); c.Folders[0].Path != want {
		t.Errorf("folders[0].path = %q, want %q", c.Folders[0].Path, want)
	}
	if c.Servers["main"].Password != "s3cret" {
		t.Errorf("password_file not read from the config's folder: %+v", c.Servers["main"])
	}
}

// TestAgentLoadConfigEmpty refuses a config file with no settings, which
// would otherwise run an agent that syncs nothing.
func TestAgentLoadConfigEmpty(t *testing.T) {
	for _, body := range []string{"", "\n", "# all commented out\n# folders: []\n", "{}\n", "---\n"} {
		_, err := LoadConfig(writeFile(t, t.TempDir(), "agent.yaml", body))
		if !errors.Is(err, ErrEmptyConfig) || !strings.Contains(err.Error(), "agent.yaml") {
			t.Errorf("config %q: %v, want ErrEmptyConfig naming the file", body, err)
		}
	}
}
