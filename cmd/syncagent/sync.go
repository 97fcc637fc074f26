package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/internal/logging"
)

func (m *Main) sync(ctx context.Context, args []string) error {
	fs := m.flags("sync")
	path := configFlag(fs)
	folder := fs.String("folder", "", "sync only the folder called `NAME`")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	logLevel := logLevelFlag(fs, "info")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.WantArgs(0, 0); err != nil {
		return err
	}
	cfg, err := agent.LoadConfig(*path)
	if err != nil {
		return err
	}
	if *dryRun {
		if _, err := os.Stat(cfg.State); errors.Is(err, os.ErrNotExist) {
			// Nothing synced yet: plan against an empty state that
			// goes away, so a dry run leaves no state file behind.
			tmp, err := os.MkdirTemp("", "syncagent-dry-run-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			cfg.State = filepath.Join(tmp, "state.db")
		}
	}
	a, err := agent.New(cfg, logging.New(m.Stderr, *logLevel, "text"))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = a.Sync(ctx, *folder, *dryRun, m.Stdout)
	if *dryRun {
		err = dropPending(err)
	}
	return err
}

// dropPending removes from err the agent.ErrPending of each folder with
// work to do: the plan a dry run printed is its result, not an error.
func dropPending(err error) error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		if errors.Is(err, agent.ErrPending) {
			return nil
		}
		return err
	}
	var keep []error
	for _, e := range joined.Unwrap() {
		if !errors.Is(e, agent.ErrPending) {
			keep = append(keep, e)
		}
	}
	return errors.Join(keep...)
}
