package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/agent/status"
)

// folderConflicts is one folder's part of `conflicts -json`.
type folderConflicts struct {
	Name           string                `json:"name"`
	Path           string                `json:"path"`
	ConflictCopies []status.ConflictCopy `json:"conflict_copies"`
}

// conflicts lists the conflict copies present now in each folder (or the
// one named), read from the local folders: no agent needs to run.
func (m *Main) conflicts(ctx context.Context, args []string) error {
	fs := m.flags("conflicts")
	path := configFlag(fs)
	folder := fs.String("folder", "", "only the folder called `NAME`")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.WantArgs(0, 0); err != nil {
		return err
	}
	// Only the folders: the servers' passwords are not needed to look.
	folders, err := agent.LoadFolderPaths(*path)
	if err != nil {
		return err
	}
	var out []folderConflicts
	var names []string
	for _, f := range folders {
		names = append(names, f.Name)
		if *folder != "" && f.Name != *folder {
			continue
		}
		list, err := agent.FindConflicts(ctx, f.Path)
		if err != nil {
			return fmt.Errorf("folder %s: %w", f.Name, err)
		}
		if list == nil {
			list = []status.ConflictCopy{}
		}
		out = append(out, folderConflicts{Name: f.Name, Path: f.Path, ConflictCopies: list})
	}
	if out == nil && *folder != "" {
		return fmt.Errorf("no folder named %q in the config; its folders: %s", *folder, strings.Join(names, ", "))
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Folders []folderConflicts `json:"folders"`
		}{out})
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	n := 0
	for _, f := range out {
		for _, c := range f.ConflictCopies {
			if n == 0 {
				fmt.Fprintln(tw, "FOLDER\tCONFLICT COPY\tOF\tTIME\tSIZE")
			}
			n++
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Name, c.Path, c.Original, status.FormatTime(c.Time), status.HumanBytes(c.Size))
		}
	}
	if n == 0 {
		fmt.Fprintln(tw, "no conflict copies")
	}
	return tw.Flush()
}
