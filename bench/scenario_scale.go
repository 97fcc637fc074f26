//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/syncagent/syncagent/agent"
)

// scenarioScale is scenario 4: a large tree already in sync. It measures
// `syncagent sync` from process start to "in sync" (exit 0), a full
// rescan inside a running agent (the pass the rescan timer triggers), the
// memory of `syncagent run` once idle, and the state file's size.
func scenarioScale(ctx context.Context, e *env) (section, error) {
	sz := e.sz
	s := section{Title: fmt.Sprintf("4. Steady state: %d files in %d directories, already in sync", sz.scaleFiles, sz.scaleDirs),
		Text: "Start-up is `syncagent sync` from exec to exit 0 (open state, scan, list the server, plan nothing). " +
			"A full rescan is the pass a running agent makes on its rescan timer (scan, list, plan), timed " +
			"in process through package agent. RSS is `syncagent run`'s once idle and in sync."}
	t := e.srv
	if err := t.reset(); err != nil {
		return s, err
	}
	local := mkdir(e.work, "scale")
	state := mkdir(e.work, "state")
	// Both trees of 100,000 files go to the trash, not away: deleting them
	// would slow every create on this file system for minutes after (see
	// discard), the next scenario's uploads included.
	defer t.resetAside()
	defer t.discard(local)
	defer os.RemoveAll(state)
	e.progress("scale: writing %d files", sz.scaleFiles)
	if err := genTree(local, sz.scaleFiles, sz.scaleDirs, 256); err != nil {
		return s, err
	}
	cfgPath, err := writeAgentConfig(state, t, local, "/scale", "push", "")
	if err != nil {
		return s, err
	}
	syncCmd := func() *exec.Cmd {
		return exec.CommandContext(ctx, e.agentBin, "sync", "-config", cfgPath, "-log-level", "warn")
	}
	e.progress("scale: initial push")
	first, err := timed(syncCmd())
	if err != nil {
		return s, fmt.Errorf("initial push: %w", err)
	}
	if n, _ := countFiles(filepath.Join(t.home, "scale")); n != sz.scaleFiles {
		return s, fmt.Errorf("initial push left %d of %d files on the server", n, sz.scaleFiles)
	}
	var starts []time.Duration
	var peaks []int64
	for run := range e.opts.Runs {
		e.progress("scale: start-up run %d", run+1)
		r, err := timed(syncCmd())
		if err != nil {
			return s, fmt.Errorf("start-up to in sync: %w", err)
		}
		starts = append(starts, r.Wall)
		peaks = append(peaks, r.MaxRSS)
	}
	rescans, err := rescanInProcess(ctx, cfgPath, e.opts.Runs, e.opts.CPUProfile)
	if err != nil {
		return s, err
	}
	e.progress("scale: syncagent run until idle")
	ap, err := startAgent(ctx, e.agentBin, cfgPath)
	if err != nil {
		return s, err
	}
	started := time.Now()
	idle := waitIdle(ap.cmd.Process.Pid, time.Second, 3*time.Minute)
	idleAfter := time.Since(started) - time.Second
	rss, hwm := statusKiB(ap.cmd.Process.Pid, "VmRSS"), statusKiB(ap.cmd.Process.Pid, "VmHWM")
	ap.stop()
	var stateSize int64
	if fi, err := os.Stat(filepath.Join(state, "state.db")); err == nil {
		stateSize = fi.Size()
	}
	st, rs := medianDur(starts), medianDur(rescans)
	tab := table{Headers: []string{"measure", "value", "target"}}
	tab.Rows = append(tab.Rows,
		[]string{"initial push (once, for reference)", secs(first.Wall) + fmt.Sprintf(" (%.0f files/s)", float64(sz.scaleFiles)/first.Wall.Seconds()), ""},
		[]string{"start-up to in sync (`syncagent sync`)", secs(st), verdict(st <= 3*time.Second, "≤ 3 s")},
		[]string{"full rescan (running agent)", secs(rs), verdict(rs <= 1500*time.Millisecond, "≤ 1.5 s")},
		[]string{"peak RSS of `syncagent sync`", mib(medianInt(peaks)), verdict(medianInt(peaks) <= 100<<10, "≤ 100 MiB")},
		[]string{"RSS of `syncagent run`, idle (peak)", mib(rss) + " (" + mib(hwm) + ")", verdict(hwm <= 100<<10, "≤ 100 MiB")},
		[]string{"state file", fmt.Sprintf("%.1f MiB (%d B/file)", float64(stateSize)/(1<<20), stateSize/int64(sz.scaleFiles)), ""},
	)
	if idle {
		tab.Rows = append(tab.Rows, []string{"`syncagent run` start to idle", secs(idleAfter), ""})
	} else {
		s.Notes = append(s.Notes, "`syncagent run` never went idle within 3 minutes; its RSS was read then")
	}
	s.Tables = append(s.Tables, tab)
	return s, nil
}

// rescanInProcess opens the agent as `syncagent run` does, makes one pass
// to warm it, then times runs full passes. With a profile it also writes
// the heap profile after the passes to profile+".heap".
func rescanInProcess(ctx context.Context, cfgPath string, runs int, profile string) ([]time.Duration, error) {
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	cfg, err := agent.LoadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	a, err := agent.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	defer a.Close()
	if err := a.Sync(ctx, "", false, io.Discard); err != nil {
		return nil, fmt.Errorf("warm-up pass: %w", err)
	}
	var out []time.Duration
	for range runs {
		start := time.Now()
		if err := a.Sync(ctx, "", false, io.Discard); err != nil {
			return nil, fmt.Errorf("rescan: %w", err)
		}
		out = append(out, time.Since(start))
	}
	if profile != "" {
		// The agent's live heap once in sync, beside the CPU profile.
		runtime.GC()
		hf, err := os.Create(profile + ".heap")
		if err != nil {
			return nil, err
		}
		defer hf.Close()
		if err := pprof.WriteHeapProfile(hf); err != nil {
			return nil, err
		}
	}
	return out, nil
}
