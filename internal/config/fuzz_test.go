package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/server"
)

// The loader is fuzzed through the two real config types, since its
// checker walks the Go type alongside the YAML: whatever the file, Parse
// and Validate must not panic, every reported problem must name the file,
// and a file that parses must parse to the same value again. Seeds beyond
// those below are committed under testdata/fuzz/<target>.

var configSeeds = []string{
	"",
	"# only a comment\n",
	"listen: \"127.0.0.1:2121\"\nroot: /srv\nusers:\n  - name: a\n    home: a\n",
	"lisen: x\n",
	"users: {a: 1}\n",
	"limits:\n  idle_timeout: 5\n",
	"limits:\n  idle_timeout: \"-1h\"\n",
	"versions:\n  keep: 99999999999999999999\n",
	"a: &x [*x]\n",
	"a: &a [*a, *a]\nb: *a\n",
	"---\n---\n",
	"root: ${UNSET_VARIABLE_FOR_FUZZ}\n",
	"root: ${\n",
	"root: $$${HOME}\n",
	"servers:\n  s:\n    address: \"h:21\"\n    user: u\nfolders:\n  - name: f\n    path: /tmp/x\n    server: s\n    remote: /r\n    mode: two-way\n    max_delete: \"150%\"\n",
	"folders:\n  - {name: f, debounce: 1x, poll: \"\", rescan: 1h, ignore: [\"[\"]}\n",
	"folders: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	"\t- bad indent\n",
	"tls: !!binary aGVsbG8=\n",
	"? [a, b]\n: c\n",
}

func FuzzParseAgentConfig(f *testing.F) {
	for _, s := range configSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, agent.DefaultConfig, func(c *agent.Config) error { return c.Validate() })
	})
}

func FuzzParseServerConfig(f *testing.F) {
	for _, s := range configSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, server.DefaultConfig, func(c *server.Config) error { return c.Validate() })
	})
}

func fuzzParse[T any](t *testing.T, data []byte, defaults func() T, validate func(*T) error) {
	if len(data) > 64<<10 {
		return // a config file is small; huge inputs only slow the fuzzer
	}
	cfg := defaults()
	err := config.Parse("fuzz.yaml", data, &cfg)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "fuzz.yaml: ") {
				t.Fatalf("problem not prefixed with the file name: %q (in %q)", line, err)
			}
		}
		return
	}
	again := defaults()
	if err := config.Parse("fuzz.yaml", data, &again); err != nil {
		t.Fatalf("second parse failed: %v", err)
	}
	if !reflect.DeepEqual(cfg, again) {
		t.Fatalf("two parses of the same file differ:\n%+v\n%+v", cfg, again)
	}
	_ = validate(&cfg) // must not panic, whatever it finds
}
