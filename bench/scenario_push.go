//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// genTree writes files files of size bytes of random content spread over
// dirs directories below root.
func genTree(root string, files, dirs, size int) error {
	buf := make([]byte, size)
	for i := range files {
		d := filepath.Join(root, fmt.Sprintf("dir%04d", i%dirs))
		if i < dirs {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		rand.Read(buf)
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("file%06d.bin", i)), buf, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// countFiles counts the regular files below dir, skipping temporaries.
func countFiles(dir string) (n int, bytes int64) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			if info, err := d.Info(); err == nil {
				n++
				bytes += info.Size()
			}
		}
		return nil
	})
	return n, bytes
}

// pushOnce uploads local to a fresh /push on t with p and checks that every
// file arrived.
func pushOnce(ctx context.Context, e *env, p pusher, t *target, local string, files int) (time.Duration, error) {
	if err := t.resetAside(); err != nil {
		return 0, err
	}
	state := mkdir(e.work, "state")
	defer os.RemoveAll(state)
	cmd, err := p.cmd(ctx, t, local, "/push", state)
	if err != nil {
		return 0, err
	}
	e.settle()
	r, err := timed(cmd)
	if err != nil {
		return 0, err
	}
	if n, _ := countFiles(filepath.Join(t.home, "push")); n != files {
		return 0, fmt.Errorf("%s to %s: %d of %d files arrived", p.name, t.name, n, files)
	}
	return r.Wall, nil
}

// scenarioPush is scenario 1: an initial push of many small files.
func scenarioPush(ctx context.Context, e *env) (section, error) {
	sz := e.sz
	s := section{Title: fmt.Sprintf("1. Initial push: %d × %d KiB files in %d directories", sz.pushFiles, sz.pushSize>>10, sz.pushDirs),
		Text: "Fresh state and an empty server each run. syncagent runs `syncagent sync` (push, 4 connections, " +
			"every file hashed and verified: to syncserver in SITE BATCH batches, each file staged, its SHA-256 " +
			"checked by the server and renamed into place; to other servers in batches too, one STOR per file " +
			"to a temporary name, then the batch's MFMT and HASH or SIZE in one write and, once those are answered, " +
			"its renames in another, on one login per connection); the peers run with the flags shown."}
	local := mkdir(e.work, "push-src")
	defer os.RemoveAll(local)
	if err := genTree(local, sz.pushFiles, sz.pushDirs, sz.pushSize); err != nil {
		return s, err
	}
	pushers := []pusher{syncagentPusher(e.agentBin)}
	if e.tools.lftp != "" {
		pushers = append(pushers, lftpPusher(e.tools.lftp))
	}
	if e.tools.rclone != "" {
		pushers = append(pushers, rclonePusher(e.tools.rclone))
	}
	targets := append([]*target{e.srv}, e.peers...)
	tab := table{Headers: []string{"server", "client", "median", "files/s", "peer ÷ syncagent", "target"}}
	for _, t := range targets {
		times := make(map[string][]time.Duration)
		for run := range e.opts.Runs {
			for _, p := range pushers {
				e.progress("push: %s → %s, run %d", p.name, t.name, run+1)
				d, err := pushOnce(ctx, e, p, t, local, sz.pushFiles)
				if err != nil {
					s.Notes = append(s.Notes, fmt.Sprintf("%s → %s failed: %v", p.name, t.name, err))
					continue
				}
				times[p.name] = append(times[p.name], d)
			}
		}
		ours := medianDur(times[pushers[0].name])
		for _, p := range pushers {
			ts := times[p.name]
			if len(ts) == 0 {
				continue
			}
			m := medianDur(ts)
			row := []string{t.name, p.name, secs(m), fmt.Sprintf("%.0f", float64(sz.pushFiles)/m.Seconds()), "", ""}
			if p.name != pushers[0].name {
				row[4] = ratio(m, ours)
				want := 3.0
				if strings.HasPrefix(p.name, "rclone") {
					want = 5
				}
				if t == e.srv && ours > 0 {
					row[5] = verdict(float64(m)/float64(ours) >= want, fmt.Sprintf("≥ %.0f×", want))
				}
			}
			tab.Rows = append(tab.Rows, row)
		}
	}
	s.Tables = append(s.Tables, tab)
	return s, nil
}
