package svc

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/kardianos/service"
)

// Spec names a service and the config file its "run" command reads. A Spec
// is a plain value; the functions taking one are safe for concurrent use
// only in the sense that the service manager serialises them.
type Spec struct {
	// Name is the service's name in the service manager. Tests set a name
	// of their own so nothing real is touched.
	Name        string
	DisplayName string
	Description string
	// ConfigPath is made absolute before it is written into the service.
	ConfigPath string
	// Executable is the program the service runs; empty means this one.
	Executable string
	// Env names the environment variables the config refers to (${NAME}).
	// Install saves their values from its own environment into EnvPath,
	// readable only by root, which the service manager reads before it
	// starts the program; where there is no such file, or a variable is
	// not set, install refuses, naming the variable.
	Env []string
}

// RestartDelay is how long the service manager waits before restarting a
// service that exited (Windows recovery actions and the SysV supervisor;
// systemd and launchd use their own defaults).
const RestartDelay = "5s"

// stopWait is how long the SysV script's stop waits for the program to
// end (syncserver lets transfers finish for 30 s) before it kills it.
const stopWait = "60s"

func (sp Spec) config() (*service.Config, error) {
	abs, err := filepath.Abs(sp.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("config path: %w", err)
	}
	return &service.Config{
		Name:        sp.Name,
		DisplayName: sp.DisplayName,
		Description: sp.Description,
		Executable:  sp.Executable,
		Arguments:   []string{"run", "-config", abs},
		// systemd only: start once the network is up.
		Dependencies: []string{"After=network-online.target", "Wants=network-online.target"},
		// Keys as kardianos/service v1.3.0 reads them; each platform
		// ignores the others'.
		Option: service.KeyValue{
			// systemd: Restart= in the unit (kardianos installs it
			// enabled, so it starts at boot).
			"Restart": "always",
			// Windows: recovery actions restart the service; it starts
			// automatically at boot.
			"OnFailure":              "restart",
			"OnFailureDelayDuration": RestartDelay,
			"OnFailureResetPeriod":   86400,
			"StartType":              "automatic",
			// launchd: started at load (boot) and kept alive.
			"KeepAlive": true,
			"RunAtLoad": true,
			// SysV init has no restart policy: our script supervises.
			"SysvScript": sysvScript,
			// launchd: stdout and stderr to /var/log/NAME.{out,err}.log
			// (kardianos would drop them). systemd keeps the journal.
			"LogOutput": runtime.GOOS == "darwin",
		},
	}, nil
}

// program adapts a blocking run function to kardianos' Start/Stop.
type program struct {
	run    func(ctx context.Context) error
	cancel context.CancelFunc
	done   chan error
}

func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.done = make(chan error, 1)
	go func() {
		err := p.run(ctx)
		if ctx.Err() == nil {
			// The program ended on its own under the service manager: exit
			// non-zero so the manager's restart policy takes over.
			fmt.Fprintln(os.Stderr, "fatal:", err)
			os.Exit(1)
		}
		p.done <- err
	}()
	return nil
}

func (p *program) Stop(service.Service) error {
	p.cancel()
	return <-p.done
}

func newService(sp Spec, run func(context.Context) error) (service.Service, error) {
	cfg, err := sp.config()
	if err != nil {
		return nil, err
	}
	if run == nil {
		run = func(context.Context) error { return nil }
	}
	s, err := service.New(&program{run: run}, cfg)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", sp.Name, err)
	}
	return s, nil
}

// Run runs fn until SIGINT or SIGTERM in a terminal, or under the service
// manager when the process was started by one.
func Run(sp Spec, base *slog.Logger, level slog.Leveler, fn func(ctx context.Context, logger *slog.Logger) error) error {
	if service.Interactive() {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return fn(ctx, base)
	}
	logger := base
	s, err := newService(sp, func(ctx context.Context) error { return fn(ctx, logger) })
	if err != nil {
		return err
	}
	logger = withSystemLog(s, base, level)
	return s.Run()
}
