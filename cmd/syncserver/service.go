package main

import (
	"errors"
	"fmt"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/svc"
	"github.com/syncagent/syncagent/server"
)

func serviceSpec(configPath string) svc.Spec {
	return svc.Spec{
		Name:        "syncserver",
		DisplayName: "syncserver FTP server",
		Description: "FTP server that stores syncagent folders and keeps old versions of replaced files.",
		ConfigPath:  configPath,
	}
}

// service installs, controls or reports on the OS service.
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
	switch action {
	case "status":
		st, err := svc.Status(spec)
		if err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, "syncserver:", st)
		if st != "running" {
			return errFailed
		}
		return nil
	case "install":
		// Refuse to install a service that would fail at its first start.
		if _, err := server.LoadConfig(*path); err != nil {
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
	fmt.Fprintln(m.Stdout, "syncserver", svc.VersionString())
	return nil
}
