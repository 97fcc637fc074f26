package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/agent/status"
	"golang.org/x/term"
)

// Transfer retries: a transfer cut by the network is taken up again (an
// upload resumes with REST where the server keeps partial files).
const (
	transferAttempts = 5
	retryBase        = time.Second
	retryMax         = 15 * time.Second
)

// openServer parses the common flags of ls, get and put and connects.
func (m *Main) openServer(name string, args []string, minArgs, maxArgs int) (*remote.Pool, []string, error) {
	c := newRemoteCmd(m, name)
	if err := c.fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if err := c.fs.WantArgs(minArgs, maxArgs); err != nil {
		return nil, nil, err
	}
	_, pool, _, err := c.open(m)
	if err != nil {
		return nil, nil, err
	}
	return pool, c.fs.Args(), nil
}

// ls lists a remote directory.
func (m *Main) ls(ctx context.Context, args []string) error {
	pool, paths, err := m.openServer("ls", args, 0, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	dir := "/"
	if len(paths) == 1 {
		if dir, err = remoteArg(paths[0]); err != nil {
			return err
		}
	}
	entries, err := pool.List(ctx, dir)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, e := range entries {
		kind, size := "-", fmt.Sprint(e.Size)
		if e.Dir {
			kind, size = "d", ""
		}
		when := ""
		if !e.ModTime.IsZero() {
			when = status.FormatTime(e.ModTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t %s\t %s\n", kind, size, when, e.Name)
	}
	return tw.Flush()
}

// get downloads a remote file.
func (m *Main) get(ctx context.Context, args []string) error {
	pool, paths, err := m.openServer("get", args, 1, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	rpath, err := remoteArg(paths[0])
	if err != nil {
		return err
	}
	lpath := path.Base(rpath)
	if len(paths) == 2 {
		lpath = paths[1]
	}
	if fi, err := os.Stat(lpath); err == nil && fi.IsDir() {
		lpath = filepath.Join(lpath, path.Base(rpath))
	}
	var size int64
	if e, err := pool.Stat(ctx, rpath); err == nil {
		size = e.Size
	}
	bar := m.progressBar(rpath, size)
	start := time.Now()
	var res remote.DownloadResult
	err = retry(ctx, func() error {
		var err error
		// An interrupted get (this run's earlier try, or an earlier run)
		// leaves a partial beside the target; this continues it.
		res, err = pool.DownloadResume(ctx, rpath, lpath, bar.set)
		return err
	})
	bar.finish()
	if err != nil {
		return fmt.Errorf("get %s: %w", rpath, err)
	}
	if res.Resumed > 0 {
		fmt.Fprintf(m.Stdout, "resumed an interrupted transfer at byte %d\n", res.Resumed)
	}
	m.confirm("received", res.Size, time.Since(start), res.Verified, lpath)
	return nil
}

// put uploads a local file.
func (m *Main) put(ctx context.Context, args []string) error {
	pool, paths, err := m.openServer("put", args, 1, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	lpath := paths[0]
	rpath := filepath.Base(lpath)
	if len(paths) == 2 {
		rpath = paths[1]
		if strings.HasSuffix(rpath, "/") {
			rpath += filepath.Base(lpath)
		}
	}
	if rpath, err = remoteArg(rpath); err != nil {
		return err
	}
	fi, err := os.Stat(lpath)
	if err != nil {
		return err
	}
	bar := m.progressBar(lpath, fi.Size())
	start := time.Now()
	var res remote.UploadResult
	err = retry(ctx, func() error {
		var err error
		res, err = pool.Upload(ctx, lpath, rpath, bar.set)
		return err
	})
	bar.finish()
	if err != nil {
		return fmt.Errorf("put %s: %w", lpath, err)
	}
	m.confirm("sent", res.Size, time.Since(start), res.Verified, rpath)
	return nil
}

// retry runs fn again after transient errors, a bounded number of times.
func retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 1; attempt <= transferAttempts; attempt++ {
		if err = fn(); err == nil || !remote.IsTransient(err) || errors.Is(err, context.Canceled) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(remote.Backoff(attempt, retryBase, retryMax)):
		}
	}
	return err
}

// confirm prints the line that ends a transfer.
func (m *Main) confirm(verb string, n int64, d time.Duration, verified, where string) {
	how := map[string]string{
		remote.VerifiedHash: "verified by the server's SHA-256 (HASH)",
		remote.VerifiedSize: "size checked (the server offers no HASH)",
		remote.VerifiedNone: "not verified (the server offers neither HASH nor SIZE)",
	}[verified]
	if how == "" {
		how = "verified: " + verified
	}
	rate := float64(n) / max(d.Seconds(), 1e-6)
	fmt.Fprintf(m.Stdout, "%s %d bytes (%s) to %s in %s (%s/s), %s\n", verb, n, status.HumanBytes(n), where,
		d.Round(time.Millisecond), status.HumanBytes(int64(rate)), how)
}

// bar draws a progress bar on a terminal and nothing otherwise.
type bar struct {
	w     io.Writer // nil: not a terminal
	name  string
	total int64
	mu    sync.Mutex
	last  time.Time
}

func (m *Main) progressBar(name string, total int64) *bar {
	b := &bar{name: filepath.Base(name), total: total}
	if f, ok := m.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b.w = f
	}
	return b
}

func (b *bar) set(done int64) {
	if b.w == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.last) < 100*time.Millisecond && done != b.total {
		return
	}
	b.last = time.Now()
	const width = 30
	frac := 0.0
	if b.total > 0 {
		frac = min(float64(done)/float64(b.total), 1)
	}
	fill := int(frac * width)
	fmt.Fprintf(b.w, "\r%-20.20s [%s%s] %3.0f%% %s", b.name, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		frac*100, status.HumanBytes(done))
}

func (b *bar) finish() {
	if b.w != nil {
		fmt.Fprintln(b.w)
	}
}
