package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type testTLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

type testUser struct {
	Name string `yaml:"name"`
	Home string `yaml:"home"`
}

type testConfig struct {
	Listen  string              `yaml:"listen"`
	Max     int                 `yaml:"max_connections"`
	Active  bool                `yaml:"active_mode"`
	Idle    Duration            `yaml:"idle_timeout"`
	TLS     testTLS             `yaml:"tls"`
	Users   []testUser          `yaml:"users"`
	Servers map[string]testUser `yaml:"servers"`
	Ignore  []string            `yaml:"ignore"`
	Skipped string              `yaml:"-"`
}

func defaults() testConfig {
	return testConfig{Listen: "127.0.0.1:2121", Max: 256, Idle: Duration(5 * time.Minute), TLS: testTLS{Cert: "c"}}
}

func TestParseKeepsDefaults(t *testing.T) {
	for name, in := range map[string]string{
		"empty":         "",
		"comments only": "# nothing\n\n# at all\n",
		"document mark": "---\n",
		"null sections": "tls:\nusers:\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := defaults()
			if err := Parse("x.yaml", []byte(in), &c); err != nil {
				t.Fatal(err)
			}
			if c.Listen != "127.0.0.1:2121" || c.Max != 256 || c.Idle.D() != 5*time.Minute || c.TLS.Cert != "c" {
				t.Errorf("defaults lost: %+v", c)
			}
		})
	}
}

func TestParseOverrides(t *testing.T) {
	c := defaults()
	in := "listen: \":21\"\nidle_timeout: 50ms\ntls:\n  key: k\nusers:\n  - name: a\nservers:\n  b:\n    name: x\nignore: [\"*.tmp\", \"~$*\"]\n"
	if err := Parse("x.yaml", []byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":21" || c.Max != 256 || c.Idle.D() != 50*time.Millisecond {
		t.Errorf("scalars: %+v", c)
	}
	if c.TLS != (testTLS{Cert: "c", Key: "k"}) {
		t.Errorf("nested struct keeps unset keys: %+v", c.TLS)
	}
	if len(c.Users) != 1 || c.Servers["b"].Name != "x" || len(c.Ignore) != 2 || c.Ignore[1] != "~$*" {
		t.Errorf("collections: %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"unknown key", "listen: x\nlisen: y\n", []string{`x.yaml: line 2: unknown key "lisen" (did you mean "listen"?)`}},
		{"dash for underscore", "max-connections: 3\n", []string{`unknown key "max-connections" (did you mean "max_connections"?)`}},
		{"unknown without suggestion", "frobnicate: 1\n", []string{`line 1: unknown key "frobnicate"`}},
		{"ignored field is unknown", "skipped: 1\n", []string{`unknown key "skipped"`}},
		{"nested unknown", "tls:\n  cret: a\n", []string{`line 2: unknown key "tls.cret" (did you mean "tls.cert"?)`}},
		{"list item unknown", "users:\n  - name: a\n  - nmae: b\n", []string{`line 3: unknown key "users[1].nmae"`}},
		{"map value unknown", "servers:\n  main:\n    hom: x\n", []string{`line 3: unknown key "servers.main.hom" (did you mean "servers.main.home"?)`}},
		{"every problem", "lisen: x\nmax_connections: many\nactive_mode: perhaps\n", []string{
			`line 1: unknown key "lisen"`,
			`line 2: max_connections: want a whole number, got "many"`,
			`line 3: active_mode: want true or false, got "perhaps"`,
		}},
		{"list for scalar", "listen: [a, b]\n", []string{`line 1: listen: want a single value, got a list`}},
		{"scalar for list", "users: alice\n", []string{`line 1: users: want a list, got "alice"`}},
		{"scalar for section", "tls: yes\n", []string{`line 1: tls: want a mapping`}},
		{"not a mapping", "- a\n- b\n", []string{`line 1: the file: want a mapping`}},
		{"duplicate key", "listen: a\nmax_connections: 1\nlisten: b\n", []string{`line 3: "listen" appears twice (first on line 1)`}},
		{"bad duration", "idle_timeout: soon\n", []string{`line 1: idle_timeout: "soon" is not a duration`}},
		{"duration without unit", "idle_timeout: 30\n", []string{`"30" is not a duration: add a unit, such as "30s"`}},
		{"syntax", "listen: a\n  bad: [\n", []string{"x.yaml: line ", "syntax error"}},
		{"syntax on line 1", "a: b: c\n", []string{"x.yaml: line 1: syntax error: mapping values are not allowed"}},
		{"two documents", "listen: a\n---\nlisten: b\n", []string{"line 2: a second YAML document"}},
		{"unset variable", "listen: a\n\nmax_connections: ${CONFIG_TEST_SURELY_UNSET}\n", []string{"x.yaml: line 3: ${CONFIG_TEST_SURELY_UNSET} is not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaults()
			err := Parse("x.yaml", []byte(tt.in), &c)
			if err == nil {
				t.Fatalf("want an error, got %+v", c)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("want %q in:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseEnv(t *testing.T) {
	t.Setenv("CONFIG_TEST_LISTEN", "0.0.0.0:2121")
	t.Setenv("CONFIG_TEST_MAX", "12")
	c := defaults()
	in := "listen: \"${CONFIG_TEST_LISTEN}\"\nmax_connections: ${CONFIG_TEST_MAX}\nusers:\n  - name: $2a$10$keep.this/untouched # ${CONFIG_TEST_UNSET_IN_COMMENT}\n"
	if err := Parse("x.yaml", []byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:2121" || c.Max != 12 || c.Users[0].Name != "$2a$10$keep.this/untouched" {
		t.Errorf("got %+v", c)
	}
}

func TestParseNeedsPointer(t *testing.T) {
	if err := Parse("x.yaml", []byte("a: 1"), testConfig{}); err == nil {
		t.Error("want an error for a non-pointer")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "server.yaml")
	if err := os.WriteFile(p, []byte("listen: \":2121\"\nlisen: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := defaults()
	err := Load(p, &c)
	if err == nil || !strings.Contains(err.Error(), p+`: line 2: unknown key "lisen"`) {
		t.Errorf("want the path, line and key in the error, got %v", err)
	}
	if err := Load(filepath.Join(dir, "missing.yaml"), &c); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}
}

func TestFieldErrors(t *testing.T) {
	var fe FieldErrors
	if fe.Err() != nil {
		t.Fatal("zero FieldErrors must have no error")
	}
	fe.Add("users[2].home", "escapes root")
	fe.Add("listen", "must be host:port, got %q", "x")
	err := fe.Err()
	if got, want := err.Error(), "users[2].home: escapes root\nlisten: must be host:port, got \"x\""; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var one *FieldError
	if !errors.As(err, &one) || one.Key != "users[2].home" {
		t.Errorf("errors.As: %+v", one)
	}
	inFile := InFile("server.yaml", err).Error()
	if want := "server.yaml: users[2].home: escapes root\nserver.yaml: listen: must be host:port, got \"x\""; inFile != want {
		t.Errorf("InFile: got %q, want %q", inFile, want)
	}
	if InFile("x", nil) != nil {
		t.Error("InFile(nil) must be nil")
	}
	if got := (&FieldError{Msg: "no key"}).Error(); got != "no key" {
		t.Errorf("keyless FieldError: %q", got)
	}
}

func TestAbsPath(t *testing.T) {
	t.Chdir(t.TempDir())
	wd, _ := os.Getwd()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	for in, want := range map[string]string{
		"":           "",
		"data":       filepath.Join(wd, "data"),
		"./a/../b/":  filepath.Join(wd, "b"),
		"~/Docs":     filepath.Join(home, "Docs"),
		"~":          home,
		"~user/x":    filepath.Join(wd, "~user", "x"),
		wd + "/x/./": filepath.Join(wd, "x"),
	} {
		got, err := AbsPath(in)
		if err != nil || got != want {
			t.Errorf("AbsPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
