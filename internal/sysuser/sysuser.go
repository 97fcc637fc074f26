// Package sysuser makes and removes the throwaway local system users that
// peer FTP servers (vsftpd, pure-ftpd, ProFTPD) log in, for tests and the
// benchmark harness. It needs root and the shadow tools; errors that mean
// "cannot do that here" wrap ErrUnavailable. Calls may run concurrently:
// each retries while another holds the passwd lock.
package sysuser

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrUnavailable marks what keeps a user from being made here: the caller
// is not root, or the user tools are missing.
var ErrUnavailable = errors.New("cannot make local users")

// Add makes name a local system user with password, for an FTP server to
// log in, and returns the user's home. With home "" useradd makes the home in
// the system's usual place; otherwise home, an existing directory, becomes
// the user's and is given to them. A user that exists already only gets
// the password. It needs root and useradd, chpasswd and getent.
func Add(name, password, home string) (string, error) {
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("%w: needs root to make the local user %s", ErrUnavailable, name)
	}
	for _, tool := range []string{"useradd", "chpasswd", "getent"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%w: needs %s: %v", ErrUnavailable, tool, err)
		}
	}
	if exec.Command("id", name).Run() != nil {
		// /bin/sh: the Debian PAM stack for vsftpd requires a shell listed
		// in /etc/shells.
		args := []string{"-m", "-s", "/bin/sh", name}
		if home != "" {
			args = []string{"-M", "-d", home, "-s", "/bin/sh", name}
		}
		if err := runRetry("useradd", args...); err != nil {
			return "", err
		}
	}
	chpw := exec.Command("chpasswd")
	chpw.Stdin = strings.NewReader(name + ":" + password + "\n")
	if out, err := chpw.CombinedOutput(); err != nil {
		return "", fmt.Errorf("chpasswd: %v: %s", err, out)
	}
	if home != "" {
		return home, runRetry("chown", name+":", home)
	}
	out, err := exec.Command("getent", "passwd", name).Output()
	if err != nil {
		return "", fmt.Errorf("getent passwd %s: %v", name, err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), ":")
	if len(f) < 6 {
		return "", fmt.Errorf("odd passwd entry %q", out)
	}
	return f[5], nil
}

// Remove deletes the local user name, leaving the home.
func Remove(name string) error { return runRetry("userdel", name) }

// runRetry runs a user-management command, retrying for two seconds while
// another process (a parallel test) holds the passwd lock.
func runRetry(name string, args ...string) error {
	var out []byte
	var err error
	for range 20 {
		if out, err = exec.Command(name, args...).CombinedOutput(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
}
