package server

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
)

// testHash is bcrypt("change-me") at cost 10, as in configs/server.yaml.
const testHash = "$2a$10$uTIkB5Vfz5yvvoDSdR25o.j3lBGASfO4ny2JT5G.VXmVqn5LHXGR6"

func validServerConfig() Config {
	c := DefaultConfig()
	c.Root = "/srv/ftp"
	c.Users = []UserConfig{{Name: "alice", PasswordHash: testHash, Home: "alice"}}
	return c
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultConfigMatchesSpec(t *testing.T) {
	c := DefaultConfig()
	if c.Listen != "127.0.0.1:2121" || c.PassivePorts != "50000-50100" || c.ActiveMode || !c.Fsync {
		t.Errorf("listen/passive/active/fsync defaults: %+v", c)
	}
	if !c.TLS.RequireSessionReuse || c.TLS.Require {
		t.Errorf("tls defaults: %+v", c.TLS)
	}
	l := c.Limits
	if l.MaxConnections != 256 || l.MaxPerIP != 32 || l.IdleTimeout.D() != 5*time.Minute ||
		l.MaxLoginFailures != 5 || l.BanDuration.D() != 15*time.Minute {
		t.Errorf("limits defaults: %+v", l)
	}
	if c.Versions.Keep != 10 || c.Versions.MaxAge.D() != 720*time.Hour {
		t.Errorf("versions defaults: %+v", c.Versions)
	}
	if c.Log != (LogConfig{Level: "info", Format: "text"}) {
		t.Errorf("log defaults: %+v", c.Log)
	}
	if c.Root == "" || DefaultConfigPath() == "" {
		t.Error("root and default path must be set")
	}
	// The defaults alone are valid but for having no users; users are
	// optional, so the defaults validate.
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // substring of the error; "" means valid
	}{
		{"valid", func(*Config) {}, ""},
		{"listen any interface", func(c *Config) { c.Listen = ":21" }, ""},
		{"listen port 0", func(c *Config) { c.Listen = "127.0.0.1:0" }, ""},
		{"listen without port", func(c *Config) { c.Listen = "127.0.0.1" }, "listen: must be host:port"},
		{"listen bad port", func(c *Config) { c.Listen = "127.0.0.1:ftp" }, "listen: port"},
		{"listen port too big", func(c *Config) { c.Listen = ":70000" }, "listen: port"},
		{"root empty", func(c *Config) { c.Root = "" }, "root: must be set"},
		{"public host with port", func(c *Config) { c.PublicHost = "1.2.3.4:21" }, "public_host:"},
		{"public host ok", func(c *Config) { c.PublicHost = "ftp.example.com" }, ""},
		{"passive empty", func(c *Config) { c.PassivePorts = "" }, ""},
		{"passive one port", func(c *Config) { c.PassivePorts = "50000-50000" }, ""},
		{"passive no dash", func(c *Config) { c.PassivePorts = "50000" }, "passive_ports: must be LO-HI"},
		{"passive reversed", func(c *Config) { c.PassivePorts = "50100-50000" }, "passive_ports:"},
		{"passive privileged", func(c *Config) { c.PassivePorts = "1000-2000" }, "passive_ports:"},
		{"passive too high", func(c *Config) { c.PassivePorts = "60000-70000" }, "passive_ports:"},
		{"passive words", func(c *Config) { c.PassivePorts = "a-b" }, "passive_ports:"},
		{"tls cert and key", func(c *Config) { c.TLS.Cert, c.TLS.Key = "/c.pem", "/k.pem" }, ""},
		{"tls cert only", func(c *Config) { c.TLS.Cert = "/c.pem" }, "tls.key: must be set when tls.cert is"},
		{"tls key only", func(c *Config) { c.TLS.Key = "/k.pem" }, "tls.cert: must be set when tls.key is"},
		{"tls require without cert", func(c *Config) { c.TLS.Require = true }, "tls.require: needs tls.cert"},
		{"tls client_ca without cert", func(c *Config) { c.TLS.ClientCA = "/ca.pem" }, "tls.client_ca: needs tls.cert"},
		{"implicit without cert", func(c *Config) { c.TLS.ImplicitListen = ":990" }, "tls.implicit_listen: needs tls.cert"},
		{"implicit bad address", func(c *Config) {
			c.TLS.Cert, c.TLS.Key, c.TLS.ImplicitListen = "/c", "/k", "990"
		}, "tls.implicit_listen: must be host:port"},
		{"implicit same as listen", func(c *Config) {
			c.TLS.Cert, c.TLS.Key, c.TLS.ImplicitListen = "/c", "/k", c.Listen
		}, "tls.implicit_listen: is the same address as listen"},
		{"user name empty", func(c *Config) { c.Users[0].Name = "" }, "users[0].name: must be set"},
		{"user name colon", func(c *Config) { c.Users[0].Name = "a:b" }, "users[0].name:"},
		{"user name space", func(c *Config) { c.Users[0].Name = "a b" }, "users[0].name:"},
		{"user name control", func(c *Config) { c.Users[0].Name = "a\x01" }, "users[0].name:"},
		{"user anonymous", func(c *Config) { c.Users[0].Name = "Anonymous" }, "users[0].name:"},
		{"user duplicate", func(c *Config) {
			c.Users = append(c.Users, UserConfig{Name: "alice", PasswordHash: testHash, Home: "a2"})
		}, "users[1].name: \"alice\" is already the name of users[0]"},
		{"home empty", func(c *Config) { c.Users[0].Home = "" }, "users[0].home: must be set"},
		{"home nested", func(c *Config) { c.Users[0].Home = "team/alice" }, ""},
		{"home dotdot", func(c *Config) { c.Users[0].Home = "../etc" }, "users[0].home: \"../etc\" escapes root"},
		{"home inner dotdot", func(c *Config) { c.Users[0].Home = "a/../../b" }, "users[0].home:"},
		{"home just dotdot", func(c *Config) { c.Users[0].Home = ".." }, "users[0].home: \"..\" escapes root"},
		{"home dot", func(c *Config) { c.Users[0].Home = "." }, "users[0].home:"},
		{"home absolute", func(c *Config) { c.Users[0].Home = "/alice" }, "users[0].home: \"/alice\" is absolute"},
		{"home backslash", func(c *Config) { c.Users[0].Home = `a\b` }, "users[0].home:"},
		{"home unclean", func(c *Config) { c.Users[0].Home = "a//b/" }, `users[0].home: "a//b/" is not written plainly; write "a/b"`},
		{"home syncserver", func(c *Config) { c.Users[0].Home = ".syncserver/versions" }, "users[0].home:"},
		{"home syncserver itself", func(c *Config) { c.Users[0].Home = ".syncserver" }, "users[0].home:"},
		{"no credentials", func(c *Config) { c.Users[0].PasswordHash = "" }, "users[0]: needs password_hash or cert_cn"},
		{"hash not bcrypt", func(c *Config) { c.Users[0].PasswordHash = "secret" }, "users[0].password_hash: is not a bcrypt hash"},
		{"hash wrong prefix", func(c *Config) { c.Users[0].PasswordHash = "$1$" + testHash[4:] }, "users[0].password_hash:"},
		{"hash bad cost", func(c *Config) { c.Users[0].PasswordHash = "$2a$xx$" + testHash[7:] }, "users[0].password_hash:"},
		{"hash truncated", func(c *Config) { c.Users[0].PasswordHash = testHash[:40] }, "users[0].password_hash:"},
		{"hash 2b", func(c *Config) { c.Users[0].PasswordHash = "$2b$" + testHash[4:] }, ""},
		{"hash 2y", func(c *Config) { c.Users[0].PasswordHash = "$2y$" + testHash[4:] }, ""},
		{"cert_cn without client_ca", func(c *Config) { c.Users[0].CertCN = "alice" }, "users[0].cert_cn: needs tls.client_ca"},
		{"cert_cn only", func(c *Config) {
			c.TLS = TLSConfig{Cert: "/c", Key: "/k", ClientCA: "/ca"}
			c.Users[0].PasswordHash, c.Users[0].CertCN = "", "alice"
		}, ""},
		{"cert_cn duplicate", func(c *Config) {
			c.TLS = TLSConfig{Cert: "/c", Key: "/k", ClientCA: "/ca"}
			c.Users[0].CertCN = "x"
			c.Users = append(c.Users, UserConfig{Name: "bob", Home: "bob", CertCN: "x"})
		}, "users[1].cert_cn:"},
		{"read_only and append_only", func(c *Config) { c.Users[0].ReadOnly, c.Users[0].AppendOnly = true, true }, "users[0].append_only: cannot be combined with read_only"},
		{"max_connections zero", func(c *Config) { c.Limits.MaxConnections = 0 }, "limits.max_connections:"},
		{"max_per_ip negative", func(c *Config) { c.Limits.MaxPerIP = -1 }, "limits.max_per_ip:"},
		{"max_per_ip above max", func(c *Config) { c.Limits.MaxPerIP = 300 }, "limits.max_per_ip: is 300, more than limits.max_connections (256)"},
		{"idle zero", func(c *Config) { c.Limits.IdleTimeout = 0 }, "limits.idle_timeout: must be more than 0"},
		{"failures zero", func(c *Config) { c.Limits.MaxLoginFailures = 0 }, "limits.max_login_failures:"},
		{"ban negative", func(c *Config) { c.Limits.BanDuration = -1 }, "limits.ban_duration:"},
		{"keep zero", func(c *Config) { c.Versions.Keep = 0 }, ""},
		{"keep negative", func(c *Config) { c.Versions.Keep = -1 }, "versions.keep:"},
		{"max_age zero", func(c *Config) { c.Versions.MaxAge = 0 }, "versions.max_age:"},
		{"login_timeout zero", func(c *Config) { c.Limits.LoginTimeout = 0 }, "limits.login_timeout: must be more than 0"},
		{"max_passive_per_ip negative", func(c *Config) { c.Limits.MaxPassivePerIP = -1 }, "limits.max_passive_per_ip:"},
		{"passive_timeout zero", func(c *Config) { c.Limits.PassiveTimeout = 0 }, "limits.passive_timeout:"},
		{"max_bytes zero", func(c *Config) { c.Versions.MaxBytes = 0 }, ""},
		{"max_bytes negative", func(c *Config) { c.Versions.MaxBytes = -1 }, "versions.max_bytes:"},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, `log.level: must be debug, info, warn or error, got "verbose"`},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, "log.format:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validServerConfig()
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

func TestValidateReportsEveryProblem(t *testing.T) {
	c := validServerConfig()
	c.Listen = "nope"
	c.Users[0].Home = "../x"
	c.Log.Format = "xml"
	err := c.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, key := range []string{"listen:", "users[0].home:", "log.format:"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not mention %s:\n%v", key, err)
		}
	}
}

func TestLoadConfigDefaultsAndNormalise(t *testing.T) {
	t.Chdir(t.TempDir())
	p := writeFile(t, "server.yaml", `
root: data                 # relative: taken from the current directory
users:
  - name: bob
    password_hash: `+testHash+`
  - name: carol
    password_hash: "`+testHash+`"
    home: shared/carol
limits:
  idle_timeout: 90s
`)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if c.Root != filepath.Join(wd, "data") {
		t.Errorf("root = %q, want it absolute under %q", c.Root, wd)
	}
	if c.Users[0].Home != "bob" || c.Users[1].Home != "shared/carol" {
		t.Errorf("homes = %q, %q", c.Users[0].Home, c.Users[1].Home)
	}
	if c.Users[0].PasswordHash != testHash || c.Users[1].PasswordHash != testHash {
		t.Errorf("bcrypt hash mangled: %q", c.Users[0].PasswordHash)
	}
	if c.Limits.IdleTimeout.D() != 90*time.Second {
		t.Errorf("idle_timeout = %v", c.Limits.IdleTimeout)
	}
	// Untouched keys keep their defaults.
	d := DefaultConfig()
	if c.Listen != d.Listen || c.Limits.MaxConnections != d.Limits.MaxConnections ||
		!c.TLS.RequireSessionReuse || c.Versions != d.Versions {
		t.Errorf("defaults lost: %+v", c)
	}
}

func TestLoadConfigEmptyFileIsDefaults(t *testing.T) {
	c, err := LoadConfig(writeFile(t, "server.yaml", "# nothing yet\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	if c.Listen != want.Listen || c.Root != want.Root || c.Limits != want.Limits || c.Log != want.Log {
		t.Errorf("empty file: got %+v, want defaults %+v", c, want)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "listen: \":21\"\nlisen: \":22\"\n",
			[]string{`server.yaml: line 2: unknown key "lisen" (did you mean "listen"?)`}},
		{"unknown nested key", "tls:\n  cert: /c\n  kye: /k\n",
			[]string{`line 3: unknown key "tls.kye" (did you mean "tls.key"?)`}},
		{"unknown user key", "users:\n  - name: a\n    password: x\n",
			[]string{`line 3: unknown key "users[0].password"`}},
		{"wrong type", "limits:\n  max_connections: lots\n",
			[]string{`line 2: limits.max_connections: want a whole number, got "lots"`}},
		{"bad duration", "limits:\n  ban_duration: 15\n",
			[]string{`line 2: limits.ban_duration: "15" is not a duration`}},
		{"validation names file and key", "log:\n  level: loud\n",
			[]string{`server.yaml: log.level: must be debug, info, warn or error`}},
		{"unset variable", "root: /srv\nusers:\n  - name: a\n    password_hash: ${SYNCSERVER_TEST_UNSET_HASH}\n",
			[]string{`line 4: ${SYNCSERVER_TEST_UNSET_HASH} is not set`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeFile(t, "server.yaml", tt.yaml))
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

func TestLoadConfigFsyncOff(t *testing.T) {
	c, err := LoadConfig(writeFile(t, "server.yaml", "root: /srv/ftp\nfsync: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Fsync {
		t.Errorf("fsync: false loaded as %v", c.Fsync)
	}
}

func TestLoadConfigExpandsEnv(t *testing.T) {
	t.Setenv("SYNCSERVER_TEST_ROOT", "/srv/ftp")
	t.Setenv("SYNCSERVER_TEST_HASH", testHash)
	c, err := LoadConfig(writeFile(t, "server.yaml", `
root: ${SYNCSERVER_TEST_ROOT}
users:
  - name: alice
    password_hash: "${SYNCSERVER_TEST_HASH}"
  - name: bob
    password_hash: $2a$10$uTIkB5Vfz5yvvoDSdR25o.j3lBGASfO4ny2JT5G.VXmVqn5LHXGR6
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Root != filepath.Clean("/srv/ftp") && !strings.HasSuffix(c.Root, filepath.Clean("/srv/ftp")) {
		t.Errorf("root = %q", c.Root)
	}
	if c.Users[0].PasswordHash != testHash || c.Users[1].PasswordHash != testHash {
		t.Errorf("hashes = %q, %q", c.Users[0].PasswordHash, c.Users[1].PasswordHash)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("want a not-exist error, got %v", err)
	}
}

func TestPassivePortRange(t *testing.T) {
	for in, want := range map[string][2]int{
		"50000-50100": {50000, 50100},
		"":            {0, 0},
		"junk":        {0, 0},
		"2000-1000":   {0, 0},
	} {
		c := Config{PassivePorts: in}
		if lo, hi := c.PassivePortRange(); lo != want[0] || hi != want[1] {
			t.Errorf("PassivePortRange(%q) = %d, %d, want %v", in, lo, hi, want)
		}
	}
}

func TestSlogLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn,
		"error": slog.LevelError, "": slog.LevelInfo,
	} {
		c := Config{Log: LogConfig{Level: in}}
		if got := c.SlogLevel(); got != want {
			t.Errorf("SlogLevel(%q) = %v, want %v", in, got, want)
		}
	}
}
