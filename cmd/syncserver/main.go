// Command syncserver is the FTP server that ships with syncagent. It only
// parses flags, loads the config and wires package server; see package
// server for the protocol.
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
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "syncserver:", err)
		}
		os.Exit(2 - boolInt(errors.Is(err, errFailed)))
	}
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

const usage = `usage: syncserver <command> [flags]

commands:
  run       [-config FILE]   serve in the foreground until SIGINT/SIGTERM
  passwd                     read a password on stdin, print its bcrypt hash
  install   [-config FILE]   install as an OS service running "run -config FILE"
  uninstall | start | stop | restart | status [-config FILE]
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
	case "passwd":
		return m.passwd(rest)
	case "install", "uninstall", "start", "stop", "restart", "status":
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
