package svc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/kardianos/service"
)

// Errors of Control, so callers and tests can tell the cases apart.
var (
	ErrInstalled    = errors.New("already installed")
	ErrNotInstalled = errors.New("not installed")
	// ErrRunning is returned by start on a running service: nothing was
	// started, and no second copy runs.
	ErrRunning = errors.New("already running")
)

// Platform names the service manager kardianos picked on this machine
// ("linux-systemd", "unix-systemv", "darwin-launchd", "windows-service", ...).
func Platform() string {
	return service.Platform()
}

// DefinitionPath returns the file that install writes for sp on this
// machine's service manager (a systemd unit, an init script, a launchd
// plist), or "" where the service lives elsewhere (the Windows registry).
func DefinitionPath(sp Spec) string {
	switch Platform() {
	case "linux-systemd":
		return "/etc/systemd/system/" + sp.Name + ".service"
	case "unix-systemv", "linux-openrc", "linux-rcs":
		return "/etc/init.d/" + sp.Name
	case "linux-upstart":
		return "/etc/init/" + sp.Name + ".conf"
	case "darwin-launchd":
		return "/Library/LaunchDaemons/" + sp.Name + ".plist"
	}
	return ""
}

// installed reports whether the service is installed. Where the
// definition is a file its presence decides, since the managers' status
// commands cannot tell "stopped" from "absent" everywhere (SysV's
// "service NAME status" fails for both).
func installed(sp Spec, s service.Service) bool {
	if p := DefinitionPath(sp); p != "" {
		_, err := os.Lstat(p)
		return err == nil
	}
	_, err := s.Status()
	return !errors.Is(err, service.ErrNotInstalled)
}

// Control performs install, uninstall, start, stop or restart. Installing
// an installed service fails with ErrInstalled, and any other action on a
// service that is not installed fails with ErrNotInstalled, both with a
// message a person can act on. Install refuses a binary built by go run,
// and saves the variables sp.Env names in EnvPath (see writeEnv);
// uninstall removes that file. Stop returns once the program has ended.
func Control(sp Spec, action string) error {
	s, err := newService(sp, nil)
	if err != nil {
		return err
	}
	switch action {
	case "install":
		if installed(sp, s) {
			return fmt.Errorf("service %s is %w (%s); run uninstall first to replace it", sp.Name, ErrInstalled, where(sp))
		}
	case "uninstall", "start", "stop", "restart":
		if !installed(sp, s) {
			return fmt.Errorf("service %s is %w; nothing to %s", sp.Name, ErrNotInstalled, action)
		}
	default:
		return fmt.Errorf("unknown service action %q", action)
	}
	if action == "start" {
		if st, err := Status(sp); err == nil && st == "running" {
			return fmt.Errorf("service %s is %w", sp.Name, ErrRunning)
		}
	}
	if action == "install" {
		if err := checkExecutable(sp); err != nil {
			return err
		}
		if err := writeEnv(sp); err != nil {
			return err
		}
	}
	if err := service.Control(s, action); err != nil {
		if action == "install" {
			removeEnv(sp)
		}
		return fmt.Errorf("%s service %s: %w", action, sp.Name, err)
	}
	if action == "uninstall" {
		if Platform() == "unix-systemv" {
			removeRCLinks(sp.Name)
		}
		if err := removeEnv(sp); err != nil {
			return fmt.Errorf("uninstall service %s: %w", sp.Name, err)
		}
	}
	return nil
}

func where(sp Spec) string {
	if p := DefinitionPath(sp); p != "" {
		return p
	}
	return runtime.GOOS + " service manager"
}

// removeRCLinks removes the runlevel links the SysV install created and
// its uninstall leaves dangling.
func removeRCLinks(name string) {
	for _, lvl := range []string{"0", "1", "2", "3", "4", "5", "6"} {
		for _, prefix := range []string{"S50", "K02"} {
			link := filepath.Join("/etc/rc"+lvl+".d", prefix+name)
			if target, err := os.Readlink(link); err == nil && target == "/etc/init.d/"+name {
				os.Remove(link)
			}
		}
	}
}

// Status reports the service's state as "running", "stopped" or "not installed".
func Status(sp Spec) (string, error) {
	s, err := newService(sp, nil)
	if err != nil {
		return "", err
	}
	if !installed(sp, s) {
		return "not installed", nil
	}
	st, err := s.Status()
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		return "not installed", nil
	case st == service.StatusRunning:
		return "running", nil
	case st == service.StatusStopped:
		return "stopped", nil
	case err != nil && Platform() == "unix-systemv":
		// The init script's status exits 1 for a stopped service.
		return "stopped", nil
	case err != nil:
		return "", fmt.Errorf("service %s status: %w", sp.Name, err)
	}
	return "unknown", nil
}
