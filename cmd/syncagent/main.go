// Command syncagent keeps local folders in sync with FTP servers. It only
// parses flags, loads the config and wires package agent.
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
	os.Exit(exitCode(m.Run(context.Background(), os.Args[1:]), os.Stderr))
}

// exitCode reports err on stderr unless it already was, and returns the
// process's exit code: 0 for success and for -h, the code of an
// *exitError, else 1.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, cli.ErrHelp) {
		return 0
	}
	if !errors.Is(err, cli.ErrReported) {
		fmt.Fprintln(stderr, "syncagent:", err)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// exitError is an error with an exit code other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Main holds the program's standard streams so tests can run commands in process.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// program is every command, in the order the usage lists them; each
// command's -h and the README's command reference are made from it.
var program = cli.Program{Name: "syncagent", Commands: []cli.Command{
	{Name: "run", Args: "[-config FILE] [-log-level LEVEL]",
		Summary: "keep every folder in sync until SIGINT/SIGTERM; SIGHUP reloads the config"},
	{Name: "sync", Args: "[-config FILE] [-folder NAME] [-dry-run] [-log-level LEVEL]",
		Summary: "one reconcile pass, then exit: 0 in sync, 1 on error\n(-dry-run: print each folder's plan, change nothing, exit 0)"},
	{Name: "status", Args: "[-config FILE] [-json]",
		Summary: "what the running agent is doing: exit 0 all well, 1 no agent answers, 3 a folder in error"},
	{Name: "conflicts", Args: "[-config FILE] [-folder NAME] [-json]",
		Summary: "list the conflict copies (NAME.sync-conflict-...) now in each folder"},
	{Name: "quickstart", Args: "[-listen ADDR] [-status ADDR] [DIR]",
		Summary: "start an embedded syncserver on 127.0.0.1 and keep DIR (default ./quickstart)\nin two-way sync with it; print its ftp:// URL and the status page's URL"},
	{Name: "ls", Args: "-server NAME [-config FILE] [REMOTE_PATH]",
		Summary: "list a remote folder (default /), or show one remote file"},
	{Name: "get", Aliases: []string{"recv"}, Args: "-server NAME [-config FILE] [-r] REMOTE_PATH [LOCAL_PATH]",
		Summary: "download a remote file (-r: a folder tree), resuming an interrupted download, verified;\na local file that already has the content is not downloaded again"},
	{Name: "put", Aliases: []string{"send"}, Args: "-server NAME [-config FILE] [-r] LOCAL_PATH [REMOTE_PATH]",
		Summary: "upload a local file (-r: a folder tree), resumable, verified;\na remote file that already has the content is not uploaded again"},
	{Name: "versions", Args: "-server NAME [-config FILE] REMOTE_PATH",
		Summary: "list a file's old versions kept by syncserver"},
	{Name: "restore", Args: "-server NAME [-config FILE] [-at TIME] REMOTE_PATH [LOCAL_PATH]",
		Summary: "the content REMOTE_PATH had at TIME (RFC 3339, or a duration ago: 90m, 36h, 2d;\ndefault: the newest old version), to LOCAL_PATH or its place in the synced folder"},
	{Name: "install", Args: "[-config FILE]", Summary: "install as an OS service running \"run -config FILE\""},
	{Name: "uninstall", Args: "[-config FILE]", Summary: "remove the OS service"},
	{Name: "start", Args: "[-config FILE]", Summary: "start the OS service"},
	{Name: "stop", Args: "[-config FILE]", Summary: "stop the OS service"},
	{Name: "restart", Args: "[-config FILE]", Summary: "restart the OS service"},
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
	case "sync":
		return m.sync(ctx, rest)
	case "quickstart":
		return m.quickstart(ctx, rest)
	case "conflicts":
		return m.conflicts(ctx, rest)
	case "status":
		return m.status(ctx, rest)
	case "ls":
		return m.ls(ctx, rest)
	case "get", "recv":
		return m.get(ctx, rest)
	case "put", "send":
		return m.put(ctx, rest)
	case "versions":
		return m.versions(ctx, rest)
	case "restore":
		return m.restore(ctx, rest)
	case "install", "uninstall", "start", "stop", "restart":
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
