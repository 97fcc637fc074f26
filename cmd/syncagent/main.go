// Command syncagent keeps local folders in sync with FTP servers. It only
// parses flags, loads the config and wires package agent.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := m.Run(context.Background(), os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) && !errors.Is(err, errQuiet) {
			fmt.Fprintln(os.Stderr, "syncagent:", err)
		}
		os.Exit(1)
	}
}

// errQuiet is an error already reported to the user.
var errQuiet = errors.New("already reported")

// Main holds the program's standard streams so tests can run commands in process.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

const usage = `usage: syncagent <command> [flags]

commands:
  run        [-config FILE]                 keep every folder in sync until SIGINT/SIGTERM
  sync       [-config FILE] [-folder NAME] [-dry-run]
                                            one pass, then exit: 0 in sync, 1 otherwise
  quickstart [DIR]                          a local syncserver plus DIR (default ./quickstart) kept in sync
  versions   -server NAME [-config FILE] REMOTE_PATH
                                            list a file's old versions on syncserver
  restore    -server NAME [-config FILE] [-at TIME] REMOTE_PATH [LOCAL_PATH]
                                            the content REMOTE_PATH had at TIME (RFC 3339 or a duration
                                            ago; default: the newest old version), to LOCAL_PATH or its
                                            place in the synced folder
  status     [-config FILE] [-json]         what the running agent is doing
  ls         -server NAME [-config FILE] REMOTE_PATH
  get|recv   -server NAME [-config FILE] REMOTE_PATH [LOCAL_PATH]
  put|send   -server NAME [-config FILE] LOCAL_PATH [REMOTE_PATH]
  install    [-config FILE] | uninstall | start | stop | restart
  version
`

// Run runs one subcommand.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return m.run(ctx, rest)
	case "sync":
		return m.sync(ctx, rest)
	case "quickstart":
		return m.quickstart(ctx, rest)
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
		return m.version()
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprint(m.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
