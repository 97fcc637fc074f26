// Package svc wires both binaries to the operating system's service manager
// (systemd, SysV, launchd, Windows services) through kardianos/service: it
// installs a service that runs "run -config ABSOLUTE_PATH", controls it, and
// runs the program's main loop either in the foreground or under the
// service manager.
package svc
