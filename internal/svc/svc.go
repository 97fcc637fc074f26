package svc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/kardianos/service"
)

// Spec names a service and the config file its "run" command reads.
type Spec struct {
	Name        string
	DisplayName string
	Description string
	// ConfigPath is made absolute before it is written into the service.
	ConfigPath string
}

func (sp Spec) config() (*service.Config, error) {
	abs, err := filepath.Abs(sp.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("config path: %w", err)
	}
	return &service.Config{
		Name:        sp.Name,
		DisplayName: sp.DisplayName,
		Description: sp.Description,
		Arguments:   []string{"run", "-config", abs},
		Option: service.KeyValue{
			// Restart on failure and start at boot, on every platform
			// kardianos supports (string keys work across platforms).
			"Restart":                "always",
			"OnFailure":              "restart",
			"OnFailureDelayDuration": "5s",
			"KeepAlive":              true,
			"RunAtLoad":              true,
			"DelayedAutoStart":       false,
			"StartType":              "automatic",
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
	return service.New(&program{run: run}, cfg)
}

// Run runs fn until SIGINT or SIGTERM in a terminal, or under the service
// manager when the process was started by one.
func Run(sp Spec, fn func(ctx context.Context) error) error {
	if service.Interactive() {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return fn(ctx)
	}
	s, err := newService(sp, fn)
	if err != nil {
		return err
	}
	return s.Run()
}

// Control performs install, uninstall, start, stop or restart.
func Control(sp Spec, action string) error {
	s, err := newService(sp, nil)
	if err != nil {
		return err
	}
	switch action {
	case "install":
		if _, err := s.Status(); err == nil {
			return fmt.Errorf("service %s is already installed (uninstall it first)", sp.Name)
		}
	case "uninstall", "start", "stop", "restart":
		if _, err := s.Status(); errors.Is(err, service.ErrNotInstalled) {
			return fmt.Errorf("service %s is not installed", sp.Name)
		}
	}
	if err := service.Control(s, action); err != nil {
		return fmt.Errorf("%s service %s: %w", action, sp.Name, err)
	}
	return nil
}

// Status reports the service's state as "running", "stopped" or "not installed".
func Status(sp Spec) (string, error) {
	s, err := newService(sp, nil)
	if err != nil {
		return "", err
	}
	st, err := s.Status()
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		return "not installed", nil
	case err != nil:
		return "", fmt.Errorf("service %s status: %w", sp.Name, err)
	case st == service.StatusRunning:
		return "running", nil
	case st == service.StatusStopped:
		return "stopped", nil
	}
	return "unknown", nil
}
