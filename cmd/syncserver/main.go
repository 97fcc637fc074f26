// Command syncserver is the FTP server that ships with syncagent. It only
// parses flags, loads the config and wires package server; see package
// server for the protocol.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/syncagent/syncagent/internal/cli"
)

func main() {
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	err := m.Run(context.Background(), os.Args[1:])
	switch {
	case err == nil || errors.Is(err, cli.ErrHelp):
		os.Exit(0)
	case errors.Is(err, cli.ErrReported):
		os.Exit(2)
	}
	fmt.Fprintln(os.Stderr, "syncserver:", err)
	os.Exit(2 - boolInt(errors.Is(err, errFailed)))
}

// errFailed marks an error that is a result (exit 1), not a usage problem (exit 2).
var errFailed = errors.New("failed")

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Main holds the program's standard streams so tests can run commands in process.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// program is every command, in the order the usage lists them; each
// command's -h and the README's command reference are made from it.
var program = cli.Program{Name: "syncserver", Commands: []cli.Command{
	{Name: "run", Args: "[-config FILE]", Summary: "serve in the foreground until SIGINT/SIGTERM; SIGHUP reloads the users"},
	{Name: "passwd", Summary: "read a password (twice, without echo, on a terminal; once on stdin otherwise)\nand print its bcrypt hash for users[].password_hash"},
	{Name: "install", Args: "[-config FILE]", Summary: "install as an OS service running \"run -config FILE\""},
	{Name: "uninstall", Args: "[-config FILE]", Summary: "remove the OS service"},
	{Name: "start", Args: "[-config FILE]", Summary: "start the OS service"},
	{Name: "stop", Args: "[-config FILE]", Summary: "stop the OS service"},
	{Name: "restart", Args: "[-config FILE]", Summary: "restart the OS service"},
	{Name: "status", Args: "[-config FILE]", Summary: "whether the OS service runs: exit 0 running, 1 otherwise"},
	{Name: "version", Summary: "print the version"},
	{Name: "help", Args: "[COMMAND]", Summary: "print this usage, or a command's"},
}}

// flags returns the flag set of the command called name.
func (m *Main) flags(name string) *cli.FlagSet {
	return program.NewFlagSet(name, m.Stdout, m.Stderr)
}

// Run runs one subcommand.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, program.Usage())
		return cli.ErrReported
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return m.run(ctx, rest)
	case "passwd":
		return m.passwd(rest)
	case "install", "uninstall", "start", "stop", "restart", "status":
		return m.service(cmd, rest)
	case "version":
		return m.version(rest)
	case "help", "-h", "-help", "--help":
		name, err := program.Help(rest, m.Stdout, m.Stderr)
		if err != nil || name == "" {
			return err
		}
		return m.Run(ctx, []string{name, "-h"})
	}
	fmt.Fprint(m.Stderr, program.Usage())
	return fmt.Errorf("unknown command %q", cmd)
}
