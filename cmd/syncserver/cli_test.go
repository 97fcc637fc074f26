package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncagent/syncagent/internal/cli"
)

// TestEveryCommandHelp: -h on every command prints its usage on stdout
// and is no error (main exits 0).
func TestEveryCommandHelp(t *testing.T) {
	for _, c := range program.Commands {
		var out, errOut bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}
		err := m.Run(context.Background(), []string{c.Name, "-h"})
		if err != nil && !errors.Is(err, cli.ErrHelp) {
			t.Errorf("%s -h: %v", c.Name, err)
		}
		first := strings.SplitN(program.CommandUsage(c), "\n", 2)[0]
		if !strings.HasPrefix(out.String(), first+"\n") || errOut.Len() > 0 {
			t.Errorf("%s -h printed %q (stderr %q), want it to start with %q", c.Name, out.String(), errOut.String(), first)
		}
	}
}

// TestREADMECommandReference: the README shows `syncserver help` as it is.
func TestREADMECommandReference(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "```text\n$ syncserver help\n"+program.Usage()+"```") {
		t.Errorf("README.md's command reference differs from `syncserver help`, which prints:\n%s", program.Usage())
	}
}
