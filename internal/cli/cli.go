package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// ErrReported is returned for an error already explained to the user (a
// bad flag, a wrong number of arguments): main exits 1 without printing
// it again.
var ErrReported = errors.New("already reported")

// ErrHelp is returned by FlagSet.Parse after -h printed the usage: the
// command did what was asked, and main exits 0.
var ErrHelp = flag.ErrHelp

// Command describes one subcommand for its usage text. It is a plain
// value, safe to share.
type Command struct {
	// Name is what the user types; Aliases are other names for it.
	Name    string
	Aliases []string
	// Args is the synopsis after the name: flags in brackets unless
	// required, then positional arguments ("-server NAME [-config FILE]
	// REMOTE_PATH").
	Args string
	// Summary says in one or two lines what the command does.
	Summary string
}

// Program is a program's name and its commands, in the order its usage
// lists them. It is read-only after construction, safe to share.
type Program struct {
	Name     string
	Commands []Command
}

// Lookup returns the command called name (or one of its aliases).
func (p Program) Lookup(name string) (Command, bool) {
	for _, c := range p.Commands {
		if c.Name == name {
			return c, true
		}
		for _, a := range c.Aliases {
			if a == name {
				return c, true
			}
		}
	}
	return Command{}, false
}

// Usage is the program's usage: every command's synopsis and summary.
func (p Program) Usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s COMMAND [flags] [arguments]\n\n", p.Name)
	b.WriteString("Flags may come before or after the arguments; -- ends the flags.\n")
	fmt.Fprintf(&b, "\"%s COMMAND -h\" describes a command's flags.\n\ncommands:\n", p.Name)
	for _, c := range p.Commands {
		fmt.Fprintf(&b, "  %s\n", strings.TrimRight(p.synopsis(c), " "))
		for _, line := range strings.Split(c.Summary, "\n") {
			fmt.Fprintf(&b, "      %s\n", line)
		}
	}
	return b.String()
}

// synopsis is "NAME[|ALIAS...] ARGS".
func (p Program) synopsis(c Command) string {
	return strings.Join(append([]string{c.Name}, c.Aliases...), "|") + " " + c.Args
}

// CommandUsage is one command's usage: its synopsis and summary; the flag
// set adds the flags.
func (p Program) CommandUsage(c Command) string {
	return fmt.Sprintf("usage: %s %s\n\n%s\n", p.Name, strings.TrimRight(p.synopsis(c), " "), c.Summary)
}

// FlagSet is a flag.FlagSet for one command that accepts flags anywhere
// among the positional arguments, and prints the command's usage on -h.
// Like flag.FlagSet it is not safe for concurrent use.
type FlagSet struct {
	*flag.FlagSet
	usage          string
	stdout, stderr io.Writer
	args           []string
}

// NewFlagSet returns the flag set of the command called name, which must
// be in p. Help goes to stdout, errors to stderr.
func (p Program) NewFlagSet(name string, stdout, stderr io.Writer) *FlagSet {
	c, ok := p.Lookup(name)
	if !ok {
		panic("cli: no command " + name + " in the table")
	}
	fs := &FlagSet{FlagSet: flag.NewFlagSet(c.Name, flag.ContinueOnError), usage: p.CommandUsage(c), stdout: stdout, stderr: stderr}
	fs.SetOutput(stderr)
	fs.FlagSet.Usage = func() {} // Parse prints the usage itself, to the right stream
	return fs
}

// PrintUsage writes the command's usage and its flags to w.
func (f *FlagSet) PrintUsage(w io.Writer) {
	io.WriteString(w, f.usage)
	has := false
	f.VisitAll(func(*flag.Flag) { has = true })
	if has {
		io.WriteString(w, "\nflags:\n")
		out := f.Output()
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(out)
	}
}

// Parse parses args, taking flags before, between or after positional
// arguments (all that follows "--" is positional). On -h it prints the
// usage to stdout and returns ErrHelp; on a bad flag it prints the
// problem and the usage to stderr and returns ErrReported.
func (f *FlagSet) Parse(args []string) error {
	f.args = nil
	for {
		if err := f.FlagSet.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.PrintUsage(f.stdout)
				return ErrHelp
			}
			f.PrintUsage(f.stderr)
			return ErrReported
		}
		rest := f.FlagSet.Args()
		if len(rest) == 0 {
			return nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			f.args = append(f.args, rest...)
			return nil
		}
		f.args = append(f.args, rest[0])
		args = rest[1:]
	}
}

// Args returns every positional argument, in order.
func (f *FlagSet) Args() []string { return f.args }

// NArg is len(Args()).
func (f *FlagSet) NArg() int { return len(f.args) }

// Arg returns the i'th positional argument, or "" if there is none.
func (f *FlagSet) Arg(i int) string {
	if i < 0 || i >= len(f.args) {
		return ""
	}
	return f.args[i]
}

// WantArgs checks that there are from min to max positional arguments
// (max < 0: any number); otherwise it prints the problem and the usage to
// stderr and returns ErrReported.
func (f *FlagSet) WantArgs(min, max int) error {
	n := len(f.args)
	if n >= min && (max < 0 || n <= max) {
		return nil
	}
	want := fmt.Sprintf("%d to %d arguments", min, max)
	switch {
	case min == max && min == 1:
		want = "1 argument"
	case min == max:
		want = fmt.Sprintf("%d arguments", min)
	case max < 0:
		want = fmt.Sprintf("at least %d arguments", min)
	}
	fmt.Fprintf(f.stderr, "%s: want %s, got %d: %q\n\n", f.Name(), want, n, f.args)
	f.PrintUsage(f.stderr)
	return ErrReported
}

// Help runs the "help [COMMAND]" command, which p must have: without an
// argument it prints p's usage to stdout and returns ""; with one it
// returns the command's name, for the caller to run with -h.
func (p Program) Help(args []string, stdout, stderr io.Writer) (string, error) {
	fs := p.NewFlagSet("help", stdout, stderr)
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if err := fs.WantArgs(0, 1); err != nil {
		return "", err
	}
	if fs.NArg() == 0 {
		io.WriteString(stdout, p.Usage())
		return "", nil
	}
	c, ok := p.Lookup(fs.Arg(0))
	if !ok {
		return "", fmt.Errorf("help: unknown command %q", fs.Arg(0))
	}
	return c.Name, nil
}

// ParseNone parses the arguments of a command of p that takes neither
// flags nor arguments (besides -h), with Parse's results.
func (p Program) ParseNone(name string, args []string, stdout, stderr io.Writer) error {
	fs := p.NewFlagSet(name, stdout, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	return fs.WantArgs(0, 0)
}
