package cli

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

var testProgram = Program{Name: "prog", Commands: []Command{
	{Name: "get", Aliases: []string{"recv"}, Args: "-server NAME [-r] REMOTE_PATH [LOCAL_PATH]", Summary: "fetch"},
}}

func TestParseTakesFlagsAnywhere(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		server string
		r      bool
		pos    []string
	}{
		{[]string{"-server", "s", "/a", "b"}, "s", false, []string{"/a", "b"}},
		{[]string{"/a", "-server", "s", "b", "-r"}, "s", true, []string{"/a", "b"}},
		{[]string{"/a", "b", "-server=s"}, "s", false, []string{"/a", "b"}},
		{[]string{"-server", "s", "--", "-r", "/a"}, "s", false, []string{"-r", "/a"}},
		{[]string{"/a", "--", "-server", "x"}, "", false, []string{"/a", "-server", "x"}},
		{[]string{"-", "-r"}, "", true, []string{"-"}},
	} {
		var out bytes.Buffer
		fs := testProgram.NewFlagSet("recv", &out, &out)
		server := fs.String("server", "", "")
		r := fs.Bool("r", false, "")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if *server != tc.server || *r != tc.r || !slices.Equal(fs.Args(), tc.pos) || fs.NArg() != len(tc.pos) {
			t.Errorf("%q: server %q, r %v, args %q; want %q, %v, %q", tc.args, *server, *r, fs.Args(), tc.server, tc.r, tc.pos)
		}
	}
}

func TestParseHelpAndErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	fs := testProgram.NewFlagSet("get", &out, &errOut)
	fs.String("server", "", "`NAME` of the server")
	if err := fs.Parse([]string{"/a", "-h"}); !errors.Is(err, ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	if !strings.HasPrefix(out.String(), "usage: prog get|recv -server NAME [-r] REMOTE_PATH [LOCAL_PATH]\n\nfetch\n\nflags:\n  -server NAME") || errOut.Len() > 0 {
		t.Errorf("-h printed %q to stdout and %q to stderr", out.String(), errOut.String())
	}
	out.Reset()
	if err := fs.Parse([]string{"-nosuch"}); !errors.Is(err, ErrReported) || out.Len() > 0 ||
		!strings.Contains(errOut.String(), "-nosuch") || !strings.Contains(errOut.String(), "usage: prog get") {
		t.Errorf("bad flag: %v, stdout %q, stderr %q", err, out.String(), errOut.String())
	}
	errOut.Reset()
	fs.Parse([]string{"a", "b", "c"})
	if err := fs.WantArgs(1, 2); !errors.Is(err, ErrReported) || !strings.Contains(errOut.String(), "want 1 to 2 arguments, got 3") {
		t.Errorf("three arguments for two: %v, %q", err, errOut.String())
	}
}
