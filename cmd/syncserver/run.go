package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/syncagent/syncagent/internal/cli"
	"github.com/syncagent/syncagent/internal/logging"
	"github.com/syncagent/syncagent/internal/svc"
	"github.com/syncagent/syncagent/server"
)

// shutdownGrace is how long running transfers get to finish on SIGTERM.
const shutdownGrace = 30 * time.Second

func configFlag(fs *cli.FlagSet) *string {
	return fs.String("config", server.DefaultConfigPath(), "config `FILE`")
}

func (m *Main) run(ctx context.Context, args []string) error {
	fs := m.flags("run")
	path := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.WantArgs(0, 0); err != nil {
		return err
	}
	cfg, err := server.LoadConfig(*path)
	if err != nil {
		return err
	}
	base := logging.New(m.Stderr, cfg.Log.Level, cfg.Log.Format)
	srv, err := server.New(cfg, base)
	if err != nil {
		return err
	}
	return svc.Run(serviceSpec(*path), base, logging.Level(cfg.Log.Level), func(ctx context.Context, logger *slog.Logger) error {
		srv.Logger = logger
		errc := make(chan error, 1)
		go func() { errc <- srv.ListenAndServe() }()
		logger.Info("syncserver listening", "listen", cfg.Listen, "implicit_tls", cfg.TLS.ImplicitListen,
			"tls", srv.TLSConfig != nil, "root", cfg.Root, "users", len(cfg.Users))
		select {
		case err := <-errc:
			return fmt.Errorf("%w: %w", errFailed, err)
		case <-ctx.Done():
		}
		logger.Info("shutting down: letting running transfers finish", "grace", shutdownGrace)
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			logger.Warn("shutdown grace expired; transfers aborted", "err", err)
		}
		if err := <-errc; err != nil && !errors.Is(err, server.ErrServerClosed) {
			return err
		}
		logger.Info("stopped")
		return nil
	})
}
