package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/internal/logging"
	"github.com/syncagent/syncagent/internal/svc"
)

func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", agent.DefaultConfigPath(), "config file")
}

func (m *Main) run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	path := configFlag(fs)
	logLevel := fs.String("log-level", "info", "debug | info | warn | error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := agent.LoadConfig(*path)
	if err != nil {
		return err
	}
	base := logging.New(m.Stderr, *logLevel, "text")
	return svc.Run(serviceSpec(*path), base, logging.Level(*logLevel), func(ctx context.Context, logger *slog.Logger) error {
		a, err := agent.New(cfg, logger)
		if err != nil {
			return err
		}
		defer a.Close()
		logger.Info("syncagent running", "folders", len(cfg.Folders), "state", cfg.State)
		err = a.Run(ctx)
		logger.Info("stopped; state saved")
		return err
	})
}
