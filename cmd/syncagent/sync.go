package main

import (
	"context"
	"flag"
	"os/signal"
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
	a, err := agent.New(cfg, logging.New(m.Stderr, *logLevel, "text"))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return a.Sync(ctx, *folder, *dryRun, m.Stdout)
}
