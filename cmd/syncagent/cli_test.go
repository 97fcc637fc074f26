package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/agent/status"
)

// TestEveryCommandHelp: -h on every command and alias prints, on stdout,
// that command's usage in the one format (its synopsis with positional
// arguments, then its flags), and exits 0.
func TestEveryCommandHelp(t *testing.T) {
	for _, c := range program.Commands {
		for _, name := range append([]string{c.Name}, c.Aliases...) {
			var out, errOut bytes.Buffer
			m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}
			err := m.Run(context.Background(), []string{name, "-h"})
			if code := exitCode(err, &errOut); code != 0 {
				t.Errorf("%s -h: exit %d (%v)", name, code, err)
			}
			want := "usage: syncagent " + strings.TrimSpace(program.CommandUsage(c)[len("usage: syncagent "):])
			if !strings.HasPrefix(out.String(), strings.SplitN(want, "\n", 2)[0]+"\n") {
				t.Errorf("%s -h printed:\n%s\nwant it to start with %q", name, out.String(), strings.SplitN(want, "\n", 2)[0])
			}
			if c.Args != "" && !strings.Contains(out.String(), c.Args) {
				t.Errorf("%s -h does not show its arguments %q:\n%s", name, c.Args, out.String())
			}
			if strings.Contains(c.Args, "-config") && !strings.Contains(out.String(), "\n  -config FILE\n") {
				t.Errorf("%s -h does not describe its flags:\n%s", name, out.String())
			}
			if errOut.Len() > 0 {
				t.Errorf("%s -h wrote to stderr: %s", name, errOut.String())
			}
		}
	}
	for _, want := range []string{"quickstart [-listen ADDR] [-status ADDR] [DIR]", "ls -server NAME [-config FILE] [REMOTE_PATH]"} {
		if !strings.Contains(program.Usage(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// TestHelpExitsZeroFromTheBinary checks the exit code main gives -h, a
// bad flag and a command that is not one.
func TestHelpExitsZeroFromTheBinary(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"ls", "-h"}, 0, "usage: syncagent ls -server NAME"},
		{[]string{"help", "restore"}, 0, "usage: syncagent restore"},
		{[]string{"-h"}, 0, "usage: syncagent COMMAND"},
		{[]string{"sync", "-nosuch"}, 1, ""},
		{[]string{"nosuch"}, 1, ""},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, syncagentBin(t), tc.args...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		cancel()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(out.String(), tc.out) {
			t.Errorf("syncagent %v: exit %d, stdout %q; want %d and %q", tc.args, code, out.String(), tc.code, tc.out)
		}
	}
}

// TestREADMECommandReference: the README shows `syncagent help` as it is.
func TestREADMECommandReference(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "```text\n$ syncagent help\n"+program.Usage()+"```") {
		t.Errorf("README.md's command reference differs from `syncagent help`, which prints:\n%s", program.Usage())
	}
}

// TestFlagsAfterArguments: flags given after the positional arguments
// count, where before they were taken for paths and the command said
// "-server NAME is required".
func TestFlagsAfterArguments(t *testing.T) {
	e := startVersionsEnv(t)
	e.put(t, "/late.txt", "flags last")
	out, err := e.run(t, "ls", "/", "-server", "backup", "-config", e.config)
	if err != nil || !strings.Contains(out, "late.txt") {
		t.Fatalf("ls / -server backup -config ...: %v\n%s", err, out)
	}
	dst := filepath.Join(t.TempDir(), "late.txt")
	if _, err := e.run(t, "get", "/late.txt", dst, "-config", e.config, "-server", "backup"); err != nil {
		t.Fatalf("get with flags last: %v", err)
	}
	if readString(t, dst) != "flags last" {
		t.Error("get with flags last fetched the wrong content")
	}
	// After "--" everything is an argument, even what looks like a flag.
	t.Chdir(t.TempDir())
	if _, err := e.run(t, "get", "-config", e.config, "-server", "backup", "--", "/late.txt", "-x"); err != nil {
		t.Errorf("get ... -- /late.txt -x: %v", err)
	} else if readString(t, "-x") != "flags last" {
		t.Error(`get -- /late.txt -x did not write the file "-x"`)
	}
}

// TestRemotePathEscapeRefused: a remote path with ".." is refused before
// anything is sent, as the config refuses it in a folder's remote.
func TestRemotePathEscapeRefused(t *testing.T) {
	e := startVersionsEnv(t)
	src := filepath.Join(t.TempDir(), "escape.txt")
	if err := os.WriteFile(src, []byte("out"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"put", src, "/../escape.txt"},
		{"put", src, "/docs/../../escape.txt"},
		{"get", "/../etc/passwd", filepath.Join(t.TempDir(), "p")},
		{"ls", "/a/../.."},
		{"versions", "/../x"},
	} {
		_, err := e.run(t, append(args, "-server", "backup", "-config", e.config)...)
		if err == nil || !strings.Contains(err.Error(), `".." is not allowed`) {
			t.Errorf("%v: %v, want the \"..\" refusal", args, err)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(e.home), "escape.txt")); err == nil {
		t.Error("escape.txt landed beside the home")
	}
}

// TestLsTimesLikeVersions: ls prints times in status.TimeLayout, the
// layout and zone versions and restore print and -at reads.
func TestLsTimesLikeVersions(t *testing.T) {
	e := startVersionsEnv(t)
	e.put(t, "/t.txt", "one")
	out, err := e.run(t, "ls", "-server", "backup", "-config", e.config, "/")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(strings.TrimSpace(out))
	if len(fields) != 4 {
		t.Fatalf("ls printed %q, want kind, size, time and name", out)
	}
	when, err := time.ParseInLocation(status.TimeLayout, fields[2], time.Local)
	if err != nil || time.Since(when) > time.Hour || fields[2] != when.Local().Format(status.TimeLayout) {
		t.Errorf("ls time %q: not a local time in %s (%v)", fields[2], status.TimeLayout, err)
	}
	if _, err := parseAt(fields[2], time.Now()); err != nil {
		t.Errorf("-at does not read ls's time: %v", err)
	}
}

// TestParseAtDays: -at takes days as well as what time.ParseDuration takes.
func TestParseAtDays(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2d":                   now.Add(-48 * time.Hour),
		"1.5d":                 now.Add(-36 * time.Hour),
		"36h":                  now.Add(-36 * time.Hour),
		"2026-11-30T10:00:00Z": time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC),
	} {
		got, err := parseAt(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseAt(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"d", "-2d", "2days", "two"} {
		if _, err := parseAt(bad, now); err == nil {
			t.Errorf("parseAt(%q) accepted", bad)
		}
	}
}
