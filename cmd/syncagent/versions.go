package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/internal/logging"
)

// remoteCmd is what the versions and restore commands share: flags for
// the config, the server and the log level, and a pool to that server.
type remoteCmd struct {
	fs       *flag.FlagSet
	config   *string
	server   *string
	logLevel *string
}

func newRemoteCmd(m *Main, name string) *remoteCmd {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	return &remoteCmd{
		fs:       fs,
		config:   configFlag(fs),
		server:   fs.String("server", "", "name of the server in the config's servers (required)"),
		logLevel: fs.String("log-level", "warn", "debug | info | warn | error"),
	}
}

// open loads the config and opens a pool to the chosen server.
func (c *remoteCmd) open(m *Main) (agent.Config, *remote.Pool, *slog.Logger, error) {
	if *c.server == "" {
		return agent.Config{}, nil, nil, fmt.Errorf("%s: -server is required", c.fs.Name())
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

// remoteArg checks and cleans a REMOTE_PATH argument.
func remoteArg(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("remote path %q: must be absolute (start with /)", p)
	}
	return path.Clean(p), nil
}

// versions lists a remote file's old versions: when each stopped being
// current, and its size.
func (m *Main) versions(ctx context.Context, args []string) error {
	c := newRemoteCmd(m, "versions")
	c.fs.Usage = func() {
		fmt.Fprintln(m.Stderr, "usage: syncagent versions -server NAME [-config FILE] REMOTE_PATH")
		c.fs.PrintDefaults()
	}
	if err := c.fs.Parse(args); err != nil {
		return err
	}
	if c.fs.NArg() != 1 {
		c.fs.Usage()
		return errQuiet
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
		fmt.Fprintf(w, "%s\t%d\t\n", v.Time.UTC().Format(timeLayout), v.Size)
	}
	return w.Flush()
}

// timeLayout prints times as -at accepts them, to the millisecond.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// restore fetches a remote file's (or directory's) content as of a time.
func (m *Main) restore(ctx context.Context, args []string) error {
	c := newRemoteCmd(m, "restore")
	at := c.fs.String("at", "", "time to restore to: RFC 3339, or a duration ago (90m); default: the newest old version")
	c.fs.Usage = func() {
		fmt.Fprintln(m.Stderr, "usage: syncagent restore -server NAME [-config FILE] [-at TIME] REMOTE_PATH [LOCAL_PATH]")
		c.fs.PrintDefaults()
	}
	if err := c.fs.Parse(args); err != nil {
		return err
	}
	if c.fs.NArg() < 1 || c.fs.NArg() > 2 {
		c.fs.Usage()
		return errQuiet
	}
	remotePath, err := remoteArg(c.fs.Arg(0))
	if err != nil {
		return err
	}
	var when time.Time
	if *at != "" {
		if when, err = agent.ParseAt(*at, time.Now()); err != nil {
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
	if err != nil {
		return err
	}
	for _, rel := range res.Skipped {
		fmt.Fprintf(m.Stdout, "skipped %s: no content from that time\n", path.Join(remotePath, rel))
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
			r.RemotePath, at.UTC().Format(timeLayout), r.Local)
	default:
		fmt.Fprintf(m.Stdout, "%s: restored the version current until %s (%d bytes) to %s\n",
			r.RemotePath, r.Version.Time.UTC().Format(timeLayout), r.Size, r.Local)
		if r.OldestKept && !at.IsZero() {
			fmt.Fprintf(m.Stdout, "  note: this is the oldest version kept; older ones may have been pruned\n")
		}
	}
}
