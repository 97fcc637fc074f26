//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// section is one scenario's part of the report.
type section struct {
	Title  string
	Text   string
	Tables []table
	Notes  []string
}

// table is a Markdown table.
type table struct {
	Headers []string
	Rows    [][]string
}

// machine describes the computer the figures come from.
func machine(ctx context.Context) []string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kib int64
				fmt.Sscan(strings.TrimSpace(v), &kib)
				mem = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
			}
		}
	}
	if _, err := os.Stat("/sys/module/page_reporting"); err == nil {
		// Freed memory goes back to the host, and touching it again costs a
		// fault there: writes into fresh page-cache pages can slow to a
		// fraction of memory speed for a while after large frees.
		mem += " (a virtual machine with free page reporting: memory freed is handed back to the host)"
	}
	kernel := "unknown"
	if out, err := exec.CommandContext(ctx, "uname", "-sr").Output(); err == nil {
		kernel = strings.TrimSpace(string(out))
	}
	return []string{
		fmt.Sprintf("CPU: %d × %s", runtime.NumCPU(), model),
		"Memory: " + mem,
		"Kernel: " + kernel,
		"Go: " + runtime.Version(),
		"Date: " + time.Now().UTC().Format("2006-01-02 15:04 UTC"),
	}
}

func versionOf(ctx context.Context, bin string, args ...string) string {
	if bin == "" {
		return "not installed"
	}
	out, _ := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if line == "" {
		return "installed"
	}
	return line
}

// diskSpeed writes 256 MiB into dir twice, once left to the page cache and
// once fsynced, and describes both rates: the bound on any server's
// throughput with and without durable uploads.
func diskSpeed(dir string) string {
	cached, err1 := writeTime(dir, 256<<20, false)
	durable, err2 := writeTime(dir, 256<<20, true)
	if err := errors.Join(err1, err2); err != nil {
		return "not measured: " + err.Error()
	}
	return fmt.Sprintf("256 MiB written at %s with an fsync at the end, %s into the page cache alone",
		mbps(256<<20, durable), mbps(256<<20, cached))
}

// writeTime times writing size bytes to a new file in dir, in 1 MiB
// writes, with an fsync at the end when sync is set. The file is removed.
func writeTime(dir string, size int64, sync bool) (time.Duration, error) {
	buf := make([]byte, 1<<20)
	f, err := os.CreateTemp(dir, "disk-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	start := time.Now()
	for left := size; left > 0; left -= int64(len(buf)) {
		if _, err := f.Write(buf[:min(left, int64(len(buf)))]); err != nil {
			return 0, err
		}
	}
	if sync {
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// writeReport renders the sections to o.Out.
func writeReport(ctx context.Context, o options, e *env, secs []section) error {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Measured by `go run ./bench` (see bench/main.go): syncagent and syncserver against the tools users " +
		"would otherwise pick, on the same machine in the same run. Times are medians")
	fmt.Fprintf(&b, " of %d runs; a ratio is the peer's time over syncagent's (above 1: syncagent is faster).", o.Runs)
	b.WriteString(" Between the runs of scenario 1 a server's files are moved aside, not deleted, and deleted when the harness ends: " +
		"on ext4 without a journal, creating files soon after deleting thousands is slower for every tool " +
		"(see `discard` in bench/servers.go). Every timed run starts after a `sync`, so none pays for the writeback of the one before, " +
		"and after touching 1 GiB of fresh memory, so none writes into pages a virtual machine's host took back.")
	if o.Smoke {
		b.WriteString(" **Smoke mode: tiny sizes, the figures mean nothing.**")
	}
	b.WriteString("\n\n")
	for _, m := range machine(ctx) {
		b.WriteString("- " + m + "\n")
	}
	if e.disk != "" {
		b.WriteString("- Disk: " + e.disk + "\n")
	}
	fmt.Fprintf(&b, "- Peers: lftp %s; rclone %s; curl %s\n", versionOf(ctx, e.tools.lftp, "--version"),
		versionOf(ctx, e.tools.rclone, "version"), versionOf(ctx, e.tools.curl, "--version"))
	var servers []string
	for _, p := range e.peers {
		servers = append(servers, p.name)
	}
	if len(servers) == 0 {
		servers = append(servers, "none")
	}
	fmt.Fprintf(&b, "- Peer servers: %s\n", strings.Join(servers, ", "))
	for _, n := range e.notes {
		b.WriteString("- Note: " + n + "\n")
	}
	for _, s := range secs {
		fmt.Fprintf(&b, "\n## %s\n\n", s.Title)
		if s.Text != "" {
			b.WriteString(s.Text + "\n\n")
		}
		for _, t := range s.Tables {
			writeTable(&b, t)
			b.WriteString("\n")
		}
		for _, n := range s.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return os.WriteFile(o.Out, []byte(b.String()), 0o644)
}

func writeTable(b *strings.Builder, t table) {
	b.WriteString("| " + strings.Join(t.Headers, " | ") + " |\n|")
	for range t.Headers {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
}

// Formatting helpers shared by the scenarios.

func secs(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func ratio(peer, ours time.Duration) string {
	if ours <= 0 || peer <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(peer)/float64(ours))
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func mbps(bytes int64, d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f MB/s", float64(bytes)/1e6/d.Seconds())
}

// verdict renders whether a target was met.
func verdict(ok bool, target string) string {
	if ok {
		return "met (" + target + ")"
	}
	return "**missed** (" + target + ")"
}
