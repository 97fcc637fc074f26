package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/signal"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/agent/status"
	"github.com/syncagent/syncagent/internal/cli"
	"github.com/syncagent/syncagent/internal/logging"
)

// remoteCmd is what the commands that work on one server (ls, get, put,
// versions, restore) share: flags for the config, the server and the log
// level, and a pool to that server.
type remoteCmd struct {
	fs       *cli.FlagSet
	config   *string
	server   *string
	logLevel *string
}

func newRemoteCmd(m *Main, name string) *remoteCmd {
	fs := m.flags(name)
	return &remoteCmd{
		fs:       fs,
		config:   configFlag(fs),
		server:   fs.String("server", "", "`NAME` of the server in the config's servers (required)"),
		logLevel: logLevelFlag(fs, "warn"),
	}
}

// open loads the config and opens a pool to the chosen server.
func (c *remoteCmd) open(m *Main) (agent.Config, *remote.Pool, *slog.Logger, error) {
	if *c.server == "" {
		return agent.Config{}, nil, nil, fmt.Errorf("%s: -server NAME is required (one of the config's servers)", c.fs.Name())
	}
	cfg, err := agent.LoadConfig(*c.config)
	if err != nil {
		return cfg, nil, nil, err
	}
	logger := logging.New(m.Stderr, *c.logLevel, "text")
	pool, err := agent.NewPool(cfg, *c.server, logger)
	if err != nil {
		return cfg, nil, nil, err
	}
	return cfg, pool, logger, nil
}

// remoteArg checks and cleans a REMOTE_PATH argument, read from the top
// of the login's home whether or not it starts with "/". It refuses what
// the config refuses in a folder's remote: "..", a backslash or a NUL.
func remoteArg(p string) (string, error) {
	if strings.ContainsAny(p, "\\\x00") {
		return "", fmt.Errorf("remote path %q: has a backslash or NUL; use / between folders", p)
	}
	if slices.Contains(strings.Split(p, "/"), "..") {
		return "", fmt.Errorf("remote path %q: \"..\" is not allowed; name the folder from the top, as %q", p, path.Clean(p))
	}
	return path.Clean("/" + p), nil
}

// versions lists a remote file's old versions: when each stopped being
// current, and its size.
func (m *Main) versions(ctx context.Context, args []string) error {
	c := newRemoteCmd(m, "versions")
	if err := c.fs.Parse(args); err != nil {
		return err
	}
	if err := c.fs.WantArgs(1, 1); err != nil {
		return err
	}
	remotePath, err := remoteArg(c.fs.Arg(0))
	if err != nil {
		return err
	}
	_, pool, _, err := c.open(m)
	if err != nil {
		return err
	}
	defer pool.Close()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	vs, err := agent.ListVersions(ctx, pool, remotePath)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		fmt.Fprintf(m.Stdout, "no old versions of %s\n", remotePath)
		return nil
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "CURRENT UNTIL\tSIZE\t")
	for _, v := range vs {
		fmt.Fprintf(w, "%s\t%d\t\n", status.FormatTime(v.Time), v.Size)
	}
	return w.Flush()
}

// parseAt reads -at: what agent.ParseAt reads, and also a number of days
// ago ("2d", "1.5d").
func parseAt(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil && n >= 0 && n < 1e5 {
			return now.Add(-time.Duration(n * 24 * float64(time.Hour))), nil
		}
	}
	t, err := agent.ParseAt(s, now)
	if err != nil {
		return t, fmt.Errorf("%w, or days ago (2d)", err)
	}
	return t, nil
}

// restore fetches a remote file's (or directory's) content as of a time.
func (m *Main) restore(ctx context.Context, args []string) error {
	c := newRemoteCmd(m, "restore")
	at := c.fs.String("at", "", "`TIME` to restore to: RFC 3339, or a duration ago (90m, 36h, 2d); default: the newest old version")
	if err := c.fs.Parse(args); err != nil {
		return err
	}
	if err := c.fs.WantArgs(1, 2); err != nil {
		return err
	}
	remotePath, err := remoteArg(c.fs.Arg(0))
	if err != nil {
		return err
	}
	var when time.Time
	if *at != "" {
		if when, err = parseAt(*at, time.Now()); err != nil {
			return err
		}
	}
	cfg, pool, logger, err := c.open(m)
	if err != nil {
		return err
	}
	defer pool.Close()
	localPath := c.fs.Arg(1)
	if localPath == "" {
		var ok bool
		if localPath, ok = agent.LocalPathFor(cfg, *c.server, remotePath); !ok {
			localPath = "."
			if remotePath != "/" {
				localPath = path.Base(remotePath)
			}
		}
	}
	if localPath, err = filepath.Abs(localPath); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := agent.Restore(ctx, pool, remotePath, when, localPath, agent.RestoreOptions{Logger: logger})
	for _, r := range res.Restored {
		m.printRestored(r, when)
	}
	if !when.IsZero() && (err == nil || errors.Is(err, agent.ErrNoVersions)) {
		fmt.Fprintf(m.Stdout, "note: %s\n", agent.RenamesUnknown)
	}
	if err != nil {
		return err
	}
	for _, rel := range res.Skipped {
		why := res.Why[rel]
		if why == "" {
			why = "no content from that time"
		}
		fmt.Fprintf(m.Stdout, "skipped %s: %s\n", path.Join(remotePath, rel), why)
	}
	fmt.Fprintf(m.Stdout, "restored %d files to %s", len(res.Restored), localPath)
	if len(res.Skipped) > 0 {
		fmt.Fprintf(m.Stdout, ", skipped %d", len(res.Skipped))
	}
	fmt.Fprintln(m.Stdout)
	if len(res.Failed) > 0 {
		var errs []error
		for rel, e := range res.Failed {
			errs = append(errs, fmt.Errorf("%s: %w", rel, e))
		}
		return fmt.Errorf("%d files not restored: %w", len(res.Failed), errors.Join(errs...))
	}
	return nil
}

func (m *Main) printRestored(r agent.RestoreResult, at time.Time) {
	switch {
	case r.Current:
		fmt.Fprintf(m.Stdout, "%s: its current content is what it had at %s; fetched to %s\n",
			r.RemotePath, status.FormatTime(at), r.Local)
	default:
		fmt.Fprintf(m.Stdout, "%s: restored the version current until %s (%d bytes) to %s\n",
			r.RemotePath, status.FormatTime(r.Version.Time), r.Size, r.Local)
		if r.OldestKept && !at.IsZero() {
			fmt.Fprintf(m.Stdout, "  note: this is the oldest version kept (written %s, before that time); older ones may have been pruned\n",
				status.FormatTime(r.Version.ModTime))
		}
	}
}
