//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// buildBinaries compiles syncagent and syncserver into dir, so every
// scenario runs them as the real processes users run.
func buildBinaries(ctx context.Context, dir string) (agent, server string, err error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", "", fmt.Errorf("find module: %w", err)
	}
	mod := filepath.Dir(strings.TrimSpace(string(out)))
	agent, server = filepath.Join(dir, "syncagent"), filepath.Join(dir, "syncserver")
	for bin, pkg := range map[string]string{agent: "./cmd/syncagent", server: "./cmd/syncserver"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		cmd.Dir = mod
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("build %s: %w: %s", pkg, err, out)
		}
	}
	return agent, server, nil
}

// runResult is one timed run of an external command.
type runResult struct {
	Wall   time.Duration
	MaxRSS int64 // KiB, from getrusage
}

// timed runs cmd to completion and reports its wall time and peak RSS. The
// output is kept only to explain a failure.
func timed(cmd *exec.Cmd) (runResult, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := runResult{Wall: time.Since(start)}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSS = ru.Maxrss
		}
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, tail(out.String(), 600))
	}
	return r, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// statusKiB reads a "Vm…" field of /proc/PID/status in KiB (0 if absent).
func statusKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// pssKiB is the proportional set size of one process: shared pages are
// divided among their users, so summing it over a forking server's
// processes is fair.
func pssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return statusKiB(pid, "VmRSS")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pss:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// treePids lists root and all its descendants.
func treePids(root int) []int {
	ents, _ := os.ReadDir("/proc")
	children := make(map[int][]int)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The command name may hold spaces; fields resume after ")".
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// cpuTicks is the user+system CPU time a process has used, in clock ticks.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}

// waitIdle waits until pid has used no CPU for quiet, at most limit.
func waitIdle(pid int, quiet, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	last, since := cpuTicks(pid), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		t := cpuTicks(pid)
		if t < 0 {
			return false
		}
		if t != last {
			last, since = t, time.Now()
		} else if time.Since(since) >= quiet {
			return true
		}
	}
	return false
}

// settle writes every file system's dirty data out, outside any timing, so
// that each timed run starts on an idle disk instead of paying for the
// writeback the one before left behind (in scenario 5 a server that
// replies from the page cache leaves over 1 GB of it a run). Then it warms
// e.warm bytes of the page cache (see warmPageCache) for the run's writes.
func (e *env) settle() { e.settleFor(0) }

// settleFor is settle before a run that writes about n bytes: it warms n
// if that is more than e.warm (and nothing when e.warm is 0, as in smoke
// mode).
func (e *env) settleFor(n int) {
	syscall.Sync()
	if e.warm > 0 {
		if err := warmPageCache(e.work, max(e.warm, n)); err != nil {
			e.progress("warming the page cache: %v", err)
		}
	}
}

// warmPageCache writes size bytes to a scratch file in dir, in 1 MiB
// writes, and deletes it, normally before the kernel has written any of it
// out (1 GiB stays under the dirty-data thresholds of a machine this size).
//
// On a virtual machine that hands memory back to its host (see machine),
// page-cache memory freed by deleting a run's files comes back slow: the
// next writes into it run at a few hundred MB/s, all of it system time in
// the copy into the page cache, until each page has been touched once. A
// server that deletes nothing between steps never sees it, but the
// harness deletes every run's files, so without this each step would pay
// for the one before it. On this machine, 100 × 10 MB uploads to one
// syncserver alternating with and without this warming took 0.25-0.87 s
// with it and 1.9-2.3 s without (vsftpd, which was not slowed, took
// 0.6-0.8 s), and turning the VM's free-page bitmap off changed nothing.
// Every server gets the same warming before every timed step, outside the
// timing.
func warmPageCache(dir string, size int) error {
	f, err := os.CreateTemp(dir, "warm-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 1<<20)
	for done := 0; done < size; done += len(buf) {
		if _, err := f.Write(buf); err != nil {
			return fmt.Errorf("warm %s: %w", f.Name(), err)
		}
	}
	return nil
}

func medianDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianInt(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]int64(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile returns the p-th percentile (0-100) by nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(k, len(s)-1))]
}
