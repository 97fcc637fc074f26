//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// tools are the client programs found on this machine; a missing one is
// skipped with a note in the report.
type tools struct {
	lftp, rclone, curl string
}

func findTools() tools {
	look := func(name string) string {
		p, err := exec.LookPath(name)
		if err != nil {
			return ""
		}
		return p
	}
	return tools{lftp: look("lftp"), rclone: look("rclone"), curl: look("curl")}
}

// pusher uploads a local folder to a remote folder on a target, fresh.
type pusher struct {
	name string
	// cmd returns the command that uploads local to remote on t; state is
	// a scratch directory for the tool's own files.
	cmd func(ctx context.Context, t *target, local, remote, state string) (*exec.Cmd, error)
}

// syncagentPusher runs `syncagent sync` with a push folder at default
// settings (4 connections).
func syncagentPusher(agentBin string) pusher {
	return pusher{name: "syncagent", cmd: func(ctx context.Context, t *target, local, remote, state string) (*exec.Cmd, error) {
		cfg, err := writeAgentConfig(state, t, local, remote, "push", "")
		if err != nil {
			return nil, err
		}
		return exec.CommandContext(ctx, agentBin, "sync", "-config", cfg, "-log-level", "warn"), nil
	}}
}

// lftpPusher runs `lftp mirror -R --parallel=4`, TLS off as for the agent.
func lftpPusher(bin string) pusher {
	return pusher{name: "lftp mirror -R --parallel=4", cmd: func(ctx context.Context, t *target, local, remote, _ string) (*exec.Cmd, error) {
		script := fmt.Sprintf("set ftp:ssl-allow no; set net:max-retries 2; set cmd:fail-exit yes; "+
			"mirror -R --parallel=4 %s %s; quit", lftpQuote(local), lftpQuote(remote))
		return exec.CommandContext(ctx, bin, "-u", t.user+","+t.pass, "-p", t.port(), "-e", script, "127.0.0.1"), nil
	}}
}

func lftpQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// rclonePusher runs `rclone copy` through an on-the-fly FTP remote, with
// no config file and rclone's defaults (4 transfers).
func rclonePusher(bin string) pusher {
	return pusher{name: "rclone copy", cmd: func(ctx context.Context, t *target, local, remote, _ string) (*exec.Cmd, error) {
		out, err := exec.CommandContext(ctx, bin, "obscure", t.pass).Output()
		if err != nil {
			return nil, fmt.Errorf("rclone obscure: %w", err)
		}
		dest := fmt.Sprintf(":ftp,host=127.0.0.1,port=%s,user=%s,pass=%s:%s", t.port(), t.user,
			strings.TrimSpace(string(out)), remote)
		return exec.CommandContext(ctx, bin, "copy", "--config", "/dev/null", local, dest), nil
	}}
}

// curlPut uploads one file with `curl -T`, the baseline for a single big
// file.
func curlPut(ctx context.Context, bin string, t *target, file, remote string) *exec.Cmd {
	url := fmt.Sprintf("ftp://%s:%s@%s%s", t.user, t.pass, t.addr, remote)
	return exec.CommandContext(ctx, bin, "-sS", "--ftp-create-dirs", "-T", file, url)
}

// writeAgentConfig writes a syncagent config for one folder on t into dir
// and returns its path; the state database lives in dir too. debounce ""
// keeps the default.
func writeAgentConfig(dir string, t *target, local, remote, mode, debounce string) (string, error) {
	extra := ""
	if debounce != "" {
		extra = fmt.Sprintf("    debounce: %q\n", debounce)
	}
	conf := fmt.Sprintf(`state: %q
status_listen: ""
servers:
  bench:
    address: %q
    user: %q
    password: %q
folders:
  - name: "bench"
    path: %q
    server: "bench"
    remote: %q
    mode: %q
%s`, filepath.Join(dir, "state.db"), t.addr, t.user, t.pass, local, remote, mode, extra)
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return "", err
	}
	return path, nil
}
