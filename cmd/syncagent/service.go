package main

import (
	"errors"
	"fmt"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/svc"
)

func serviceSpec(configPath string) svc.Spec {
	return svc.Spec{
		Name:        "syncagent",
		DisplayName: "syncagent",
		Description: "Keeps local folders in sync with FTP servers.",
		ConfigPath:  configPath,
	}
}

// service installs or controls the OS service.
func (m *Main) service(action string, args []string) error {
	fs := m.flags(action)
	path := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.WantArgs(0, 0); err != nil {
		return err
	}
	spec := serviceSpec(*path)
	if action == "install" {
		if _, err := agent.LoadConfig(*path); err != nil {
			return fmt.Errorf("not installing: %w", err)
		}
		refs, err := config.References(*path)
		if err != nil {
			return fmt.Errorf("not installing: %w", err)
		}
		spec.Env = refs
	}
	err := svc.Control(spec, action)
	if errors.Is(err, svc.ErrRunning) {
		fmt.Fprintf(m.Stdout, "%s: already running; nothing started\n", spec.Name)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprint(m.Stdout, svc.Done(spec, action))
	return nil
}

func (m *Main) version(args []string) error {
	if err := program.ParseNone("version", args, m.Stdout, m.Stderr); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, "syncagent", svc.VersionString())
	return nil
}
