package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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

// status prints what the running agent is doing, from its status endpoint.
func (m *Main) status(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	path := configFlag(fs)
	asJSON := fs.Bool("json", false, "print the endpoint's JSON")
	if err := fs.Parse(args); err != nil {
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
			return fmt.Errorf("no agent is running: nothing answers on %s (status_listen of %s)", listen, *path)
		}
		return fmt.Errorf("ask the agent at %s: %w", listen, err)
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(m, rep)
	return nil
}

func printReport(m *Main, rep status.Report) {
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FOLDER\tSTATE\tQUEUED\tLAST SYNC\tCONFLICTS\tUP\tDOWN\tLAST ERROR")
	for _, f := range rep.Folders {
		last := "never"
		if !f.LastSync.IsZero() {
			last = f.LastSync.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d (%s)\t%s\t%d\t%d\t%d\t%s\n", f.Name, f.State, f.FilesQueued,
			status.HumanBytes(f.BytesQueued), last, f.Conflicts, f.Uploaded, f.Downloaded, f.LastError)
		for _, t := range f.Transfers {
			fmt.Fprintf(tw, "  %s %s\t%s of %s\t\t\t\t\t\t\n", t.Direction, t.Path, status.HumanBytes(t.Done), status.HumanBytes(t.Size))
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "SERVER\tADDRESS\tCONNECTED\tCAPABILITIES\tERROR")
	for _, s := range rep.Servers {
		conn := "no"
		if s.Connected {
			conn = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Address, conn, strings.Join(s.Caps, " "), s.Error)
	}
	tw.Flush()
}
