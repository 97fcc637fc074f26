package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/internal/cli"
	"github.com/syncagent/syncagent/internal/logging"
	"github.com/syncagent/syncagent/internal/svc"
)

func configFlag(fs *cli.FlagSet) *string {
	return fs.String("config", agent.DefaultConfigPath(), "config `FILE`")
}

func (m *Main) run(ctx context.Context, args []string) error {
	fs := m.flags("run")
	path := configFlag(fs)
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
	base := logging.New(m.Stderr, *logLevel, "text")
	return svc.Run(serviceSpec(*path), base, logging.Level(*logLevel), func(ctx context.Context, logger *slog.Logger) error {
		a, err := agent.New(cfg, logger)
		if err != nil {
			return err
		}
		defer a.Close()
		status := ""
		if cfg.StatusListen != "" {
			// Bound before "running" is logged, so that the line is true.
			if a.StatusListener, err = net.Listen("tcp", cfg.StatusListen); err != nil {
				return fmt.Errorf("status_listen: %w", err)
			}
			status = "http://" + a.StatusListener.Addr().String() + "/"
		}
		logger.Info("syncagent running", "folders", len(cfg.Folders), "state", cfg.State, "status", status)
		stopHUP := onSIGHUP(ctx, func() { reload(logger, *path, a) })
		defer stopHUP()
		err = a.Run(ctx)
		logger.Info("stopped; state saved")
		return err
	})
}

func logLevelFlag(fs *cli.FlagSet, def string) *string {
	return fs.String("log-level", def, "`LEVEL` of the log: debug | info | warn | error")
}

// reload reads the config file again (SIGHUP) and applies it to the
// running agent: unchanged folders keep running. A config with a problem
// is refused, naming it, and the running one stays.
func reload(logger *slog.Logger, path string, a *agent.Agent) {
	cfg, err := agent.LoadConfig(path)
	if err == nil {
		var started, stopped []string
		if started, stopped, err = a.Reload(cfg); err == nil {
			logger.Info("config reloaded; unchanged folders keep running", "started", strings.Join(started, ","),
				"stopped", strings.Join(stopped, ","), "folders", len(cfg.Folders))
			return
		}
	}
	logger.Error("config reload refused; the running config stays", "err", err)
}
