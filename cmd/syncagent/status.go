package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/agent/status"
)

// statusTimeout bounds the request to the running agent's endpoint.
const statusTimeout = 10 * time.Second

// Exit codes of the status command besides 0 (all well): no agent
// answers, or one answers with a folder in error.
const (
	exitNoAgent     = 1
	exitFolderError = 3
)

// status prints what the running agent is doing, from its status endpoint.
func (m *Main) status(ctx context.Context, args []string) error {
	fs := m.flags("status")
	path := configFlag(fs)
	asJSON := fs.Bool("json", false, "print the endpoint's JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.WantArgs(0, 0); err != nil {
		return err
	}
	// Only status_listen: the servers' passwords may come from variables
	// that only the service's environment has.
	listen, err := agent.LoadStatusListen(*path)
	if err != nil {
		return err
	}
	if listen == "" {
		return fmt.Errorf("status_listen is empty in %s: the agent serves no status", *path)
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	rep, err := status.Fetch(ctx, &http.Client{}, listen)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			err = fmt.Errorf("no agent is running: nothing answers on %s (status_listen of %s)", listen, *path)
		} else {
			err = fmt.Errorf("ask the agent at %s: %w", listen, err)
		}
		return &exitError{exitNoAgent, err}
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(m, rep)
	}
	var failing []string
	for _, f := range rep.Folders {
		if f.State == "error" {
			failing = append(failing, f.Name)
		}
	}
	if len(failing) > 0 {
		return &exitError{exitFolderError, fmt.Errorf("folders in error: %s", strings.Join(failing, ", "))}
	}
	return nil
}

func printReport(m *Main, rep status.Report) {
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FOLDER\tSTATE\tQUEUED\tLAST SYNC\tCONFLICTS\tUP\tDOWN\tLAST ERROR")
	for _, f := range rep.Folders {
		state := f.State
		if len(f.Problems) > 0 {
			state += fmt.Sprintf(", %d failing", len(f.Problems))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d (%s)\t%s\t%d\t%d\t%d\t%s\n", f.Name, state, f.FilesQueued,
			status.HumanBytes(f.BytesQueued), status.FormatTime(f.LastSync), len(f.ConflictCopies), f.Uploaded, f.Downloaded, f.LastError)
	}
	tw.Flush()
	for _, f := range rep.Folders {
		fmt.Fprintf(m.Stdout, "\n%s: %s <-> %s:%s (%s)\n", f.Name, f.Path, f.Server, f.Remote, f.Mode)
		if f.Watcher != "" {
			fmt.Fprintf(m.Stdout, "  watcher: %s\n", f.Watcher)
		}
		for _, t := range f.Transfers {
			fmt.Fprintf(m.Stdout, "  %s %s: %s\n", t.Direction, t.Path, status.Progress(t))
		}
		for _, p := range f.Problems {
			fmt.Fprintf(m.Stdout, "  failing %s: %s\n", p.Path, p.Error)
		}
		for _, c := range f.ConflictCopies {
			fmt.Fprintf(m.Stdout, "  conflict copy %s (of %s, %s)\n", c.Path, c.Original, status.FormatTime(c.Time))
		}
		for _, sk := range f.Skipped {
			fmt.Fprintf(m.Stdout, "  skipped %s: %s\n", sk.Path, sk.Kind)
		}
	}
	fmt.Fprintln(m.Stdout)
	tw = tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tADDRESS\tCONNECTED\tCAPABILITIES IN USE\tBWLIMIT\tERROR")
	for _, s := range rep.Servers {
		conn := "no"
		if s.Connected {
			conn = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Address, conn, strings.Join(s.Caps, " "), orNone(s.BWLimit), s.Error)
	}
	tw.Flush()
	fmt.Fprintf(m.Stdout, "\n(at %s)\n", status.FormatTime(rep.Time))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
