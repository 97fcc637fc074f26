package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
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
		lns, err := listen(cfg)
		if err != nil {
			return fmt.Errorf("%w: %w", errFailed, err)
		}
		errc := make(chan error, len(lns))
		go func() { errc <- srv.Serve(lns[0]) }()
		implicit := ""
		if len(lns) > 1 {
			implicit = lns[1].Addr().String()
			go func() { errc <- srv.ServeImplicitTLS(lns[1]) }()
		}
		logger.Info("syncserver listening", "listen", lns[0].Addr().String(), "implicit_tls", implicit,
			"tls", srv.TLSConfig != nil, "root", cfg.Root, "users", len(cfg.Users))
		warnNoUsers(logger, cfg)
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	serve:
		for {
			select {
			case err := <-errc:
				srv.Close()
				return fmt.Errorf("%w: %w", errFailed, err)
			case <-hup:
				reload(logger, *path, srv)
			case <-ctx.Done():
				break serve
			}
		}
		logger.Info("shutting down: letting running transfers finish", "grace", shutdownGrace)
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			logger.Warn("shutdown grace expired; transfers aborted", "err", err)
		}
		for range lns {
			if err := <-errc; err != nil && !errors.Is(err, server.ErrServerClosed) {
				return err
			}
		}
		logger.Info("stopped")
		return nil
	})
}

// listen binds the control port and, when configured, the implicit TLS
// port, so that "listening" is logged only once both are bound.
func listen(cfg server.Config) ([]net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err // "listen tcp ADDR: ..." says it all
	}
	if cfg.TLS.ImplicitListen == "" {
		return []net.Listener{ln}, nil
	}
	iln, err := net.Listen("tcp", cfg.TLS.ImplicitListen)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("tls.implicit_listen: %w", err)
	}
	return []net.Listener{ln, iln}, nil
}

func warnNoUsers(logger *slog.Logger, cfg server.Config) {
	if len(cfg.Users) == 0 {
		logger.Warn("no users in the config: nobody can log in; add users[] with a password_hash from `syncserver passwd`")
	}
}

// reload reads the config file again (SIGHUP) and applies its users to
// the next logins. A config with a problem is refused, naming it, and
// the running one stays.
func reload(logger *slog.Logger, path string, srv *server.Server) {
	cfg, err := server.LoadConfig(path)
	if err == nil {
		var restart []string
		if restart, err = srv.Reload(cfg); err == nil {
			logger.Info("config reloaded: users apply to new logins; sessions of unchanged users keep running", "users", len(cfg.Users))
			if len(restart) > 0 {
				logger.Warn("config reload: these settings apply only after a restart", "keys", strings.Join(restart, ","))
			}
			warnNoUsers(logger, cfg)
			return
		}
	}
	logger.Error("config reload refused; the running config stays", "err", err)
}
