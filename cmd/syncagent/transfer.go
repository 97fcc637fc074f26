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
	"github.com/syncagent/syncagent/internal/cli"
	"golang.org/x/term"
)

// Transfer retries: a transfer cut by the network is taken up again (an
// upload resumes with REST where the server keeps partial files).
const (
	transferAttempts = 5
	retryBase        = time.Second
	retryMax         = 15 * time.Second
)

// openServer parses the flags of ls, get or put (set adds the command's
// own, after the common ones) and connects.
func (m *Main) openServer(name string, args []string, minArgs, maxArgs int, set func(*cli.FlagSet)) (*remote.Pool, []string, error) {
	c := newRemoteCmd(m, name)
	if set != nil {
		set(c.fs)
	}
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

// ls lists a remote directory, or shows one remote file.
func (m *Main) ls(ctx context.Context, args []string) error {
	pool, paths, err := m.openServer("ls", args, 0, 1, nil)
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
	var entries []remote.Entry
	if e, err := pool.Stat(ctx, dir); err == nil && !e.Dir {
		e.Name = dir
		entries = []remote.Entry{e}
	} else if entries, err = pool.List(ctx, dir); err != nil {
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

// get downloads a remote file, or with -r a folder tree.
func (m *Main) get(ctx context.Context, args []string) error {
	var recursive *bool
	pool, paths, err := m.openServer("get", args, 1, 2, func(fs *cli.FlagSet) {
		recursive = fs.Bool("r", false, "copy the folder REMOTE_PATH and all below it")
	})
	if err != nil {
		return err
	}
	defer pool.Close()
	rpath, err := remoteArg(paths[0])
	if err != nil {
		return err
	}
	lpath := path.Base(rpath)
	if rpath == "/" {
		lpath = "." // never the local file system's root
	}
	if len(paths) == 2 {
		lpath = paths[1]
	}
	if *recursive {
		return m.getTree(ctx, pool, rpath, lpath)
	}
	if fi, err := os.Stat(lpath); err == nil && fi.IsDir() {
		lpath = filepath.Join(lpath, path.Base(rpath))
	}
	e, err := pool.Stat(ctx, rpath)
	if err == nil && e.Dir {
		return fmt.Errorf("get %s: a folder; get -r copies a folder tree", rpath)
	}
	start := time.Now()
	res, same, err := m.getFile(ctx, pool, rpath, lpath, e.Size)
	switch {
	case err != nil:
		return err // "download PATH: ..." names it already
	case same:
		fmt.Fprintf(m.Stdout, "%s is already %s (same SHA-256 as the server's); nothing downloaded\n", lpath, rpath)
		return nil
	}
	if res.Resumed > 0 {
		fmt.Fprintf(m.Stdout, "resumed an interrupted transfer at byte %d\n", res.Resumed)
	}
	m.confirm("received", res.Size, time.Since(start), res.Verified, lpath)
	return nil
}

// getFile downloads rpath (size bytes, if known) to lpath, resuming an
// interrupted download, unless lpath already holds the same content.
func (m *Main) getFile(ctx context.Context, pool *remote.Pool, rpath, lpath string, size int64) (res remote.DownloadResult, same bool, err error) {
	if fi, err := os.Stat(lpath); err == nil && fi.Mode().IsRegular() && fi.Size() == size {
		if same, err := sameContent(ctx, pool, rpath, lpath); err == nil && same {
			return res, true, nil
		}
	}
	bar := m.progressBar(rpath, size)
	err = retry(ctx, func() error {
		var err error
		// An interrupted get (this run's earlier try, or an earlier run)
		// leaves a partial beside the target; this continues it.
		res, err = pool.DownloadResume(ctx, rpath, lpath, bar.set)
		return err
	})
	bar.finish()
	return res, false, err
}

// put uploads a local file, or with -r a folder tree.
func (m *Main) put(ctx context.Context, args []string) error {
	var recursive *bool
	pool, paths, err := m.openServer("put", args, 1, 2, func(fs *cli.FlagSet) {
		recursive = fs.Bool("r", false, "copy the folder LOCAL_PATH and all below it")
	})
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
	if *recursive {
		return m.putTree(ctx, pool, lpath, rpath)
	}
	if fi.IsDir() {
		return fmt.Errorf("put %s: a folder; put -r copies a folder tree", lpath)
	}
	start := time.Now()
	res, same, err := m.putFile(ctx, pool, lpath, rpath, fi.Size())
	switch {
	case err != nil:
		return fmt.Errorf("put %s: %w", lpath, err)
	case same:
		fmt.Fprintf(m.Stdout, "%s is already %s (same SHA-256 as the server's); nothing uploaded\n", rpath, lpath)
		return nil
	}
	m.confirm("sent", res.Size, time.Since(start), res.Verified, rpath)
	return nil
}

// putFile uploads lpath (size bytes) to rpath, unless rpath already holds
// the same content.
func (m *Main) putFile(ctx context.Context, pool *remote.Pool, lpath, rpath string, size int64) (res remote.UploadResult, same bool, err error) {
	if e, err := pool.Stat(ctx, rpath); err == nil && !e.Dir && e.Size == size {
		if same, err := sameContent(ctx, pool, rpath, lpath); err == nil && same {
			return res, true, nil
		}
	}
	bar := m.progressBar(lpath, size)
	err = retry(ctx, func() error {
		var err error
		res, err = pool.Upload(ctx, lpath, rpath, bar.set)
		return err
	})
	bar.finish()
	return res, false, err
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
