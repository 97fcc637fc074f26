package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/internal/logging"
)

func (m *Main) sync(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	path := configFlag(fs)
	folder := fs.String("folder", "", "sync only this folder")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	logLevel := fs.String("log-level", "info", "debug | info | warn | error")
	if err := fs.Parse(args); err != nil {
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
	return a.Sync(ctx, *folder, *dryRun, m.Stdout)
}
