package svc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// envHeader starts every environment file install writes; uninstall removes
// only files that start with it, never one a person wrote.
const envHeader = "# Written by install of this service; removed by its uninstall.\n"

// EnvPath returns the environment file the service manager reads before it
// starts sp's program, or "" where install cannot give the program
// environment variables safely. systemd units from kardianos read
// /etc/sysconfig/NAME (EnvironmentFile=-), and our SysV script sources the
// same file with "set -a".
func EnvPath(sp Spec) string {
	switch Platform() {
	case "linux-systemd", "unix-systemv":
		return "/etc/sysconfig/" + sp.Name
	}
	return ""
}

// LogLocation says where the installed service's output goes on this
// machine, for the messages of install and start.
func LogLocation(sp Spec) string {
	switch Platform() {
	case "linux-systemd":
		return "the journal (journalctl -u " + sp.Name + ")"
	case "unix-systemv":
		// As the init script decides: syslog needs its socket and logger(1).
		fi, err := os.Stat("/dev/log")
		if _, lerr := exec.LookPath("logger"); err == nil && fi.Mode().Type() == os.ModeSocket && lerr == nil {
			return "syslog (tag " + sp.Name + ")"
		}
		return "/var/log/" + sp.Name + ".log"
	case "darwin-launchd":
		return "/var/log/" + sp.Name + ".out.log and /var/log/" + sp.Name + ".err.log"
	case "windows-service":
		return "the Windows Event Log (source " + sp.Name + ")"
	}
	return "the service manager's log"
}

// checkExecutable refuses to install a binary that go run built: it lives
// in a temporary directory or the build cache and vanishes or changes.
func checkExecutable(sp Spec) error {
	exe := sp.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("find this program: %w", err)
		}
	}
	if !builtByGoRun(exe) {
		return nil
	}
	return fmt.Errorf("not installing %s: it is a temporary binary built by go run (in the Go build cache or a "+
		"go-build directory), which Go deletes or replaces; build it first with "+
		"\"go build -o /usr/local/bin/%s ./cmd/%s\" and run \"/usr/local/bin/%s install\"",
		exe, filepath.Base(exe), filepath.Base(exe), filepath.Base(exe))
}

// builtByGoRun reports whether exe is where go run puts its binaries:
// $TMPDIR/go-buildNNN/b001/exe/NAME, or the build cache (…/go-build/xx/…).
func builtByGoRun(exe string) bool {
	for _, part := range strings.Split(filepath.ToSlash(exe), "/") {
		if rest, ok := strings.CutPrefix(part, "go-build"); ok && strings.Trim(rest, "0123456789") == "" {
			return true
		}
	}
	return false
}

// writeEnv saves the variables sp.Env names, from this process's
// environment, in EnvPath (mode 0600). It refuses, naming the variable,
// when one is not set or the platform has no environment file, and leaves
// alone a file at EnvPath that install did not write.
func writeEnv(sp Spec) error {
	if len(sp.Env) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(envHeader)
	for _, name := range sp.Env {
		val, ok := os.LookupEnv(name)
		if !ok {
			return fmt.Errorf("not installing: the config uses ${%s}, which is not set here; "+
				"set it in the shell that runs install (its value is saved for the service, readable only by root), "+
				"or put the secret in a file and use password_file", name)
		}
		if strings.ContainsAny(val, "\n\r\x00") {
			return fmt.Errorf("not installing: the value of ${%s} has a line break or NUL, which an environment file cannot hold", name)
		}
		fmt.Fprintf(&b, "%s=%s\n", name, envQuote(val))
	}
	path := EnvPath(sp)
	if path == "" {
		return fmt.Errorf("not installing: the config uses ${%s}, and a %s service cannot be given environment variables "+
			"safely; put the secret in a file and use password_file", sp.Env[0], Platform())
	}
	if old, err := os.ReadFile(path); err == nil && !bytes.HasPrefix(old, []byte(envHeader)) {
		return fmt.Errorf("not installing: %s exists and was not written by install; add %s to it yourself and "+
			"take ${...} out of the config, or remove the file", path, strings.Join(sp.Env, ", "))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("environment file: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("environment file: %w", err)
	}
	// WriteFile keeps the mode of a file that was there already.
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("environment file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("environment file: %w", err)
	}
	return nil
}

// removeEnv removes the environment file install wrote, if any.
func removeEnv(sp Spec) error {
	path := EnvPath(sp)
	if path == "" {
		return nil
	}
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && !bytes.HasPrefix(old, []byte(envHeader))) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("environment file: %w", err)
	}
	return os.Remove(path)
}

// envQuote double-quotes val so that sh and systemd's EnvironmentFile
// both read it back unchanged: inside double quotes each of them takes
// \" \\ \$ and \` as the escaped character.
func envQuote(val string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range val {
		if strings.ContainsRune("\"\\$`", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// Done is what a command prints after a successful action: that it is
// done, what to do next after install, and where the output goes.
func Done(sp Spec, action string) string {
	s := fmt.Sprintf("%s: %s done\n", sp.Name, action)
	switch action {
	case "install":
		s += fmt.Sprintf("%s: starts at boot and restarts when it exits; start it now with \"%s start\"\n", sp.Name, sp.Name)
		if p := EnvPath(sp); p != "" && len(sp.Env) > 0 {
			s += fmt.Sprintf("%s: %s saved in %s (readable only by root)\n", sp.Name, strings.Join(sp.Env, ", "), p)
		}
	case "start", "restart":
		s += fmt.Sprintf("%s: logging to %s\n", sp.Name, LogLocation(sp))
	}
	return s
}
