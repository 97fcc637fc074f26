//go:build linux

// Command bench measures syncagent and syncserver against the tools users
// would otherwise pick (lftp, rclone, curl, vsftpd, pure-ftpd), on this
// machine in one run, and writes the medians and ratios to a Markdown file.
//
//	go run ./bench [-smoke] [-runs N] [-out BENCHMARKS.md] [-scenarios 1,2,3,4,5]
//
// Peers run only where installed. -smoke uses tiny sizes so the harness
// itself is exercised by `go test ./bench/`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// options are the harness's settings; tests build them directly.
type options struct {
	Smoke bool
	Runs  int
	Out   string
	// Scenarios selects scenarios by number (1-5); empty runs all.
	Scenarios map[int]bool
	// SystemPeers allows servers that need a local system user (vsftpd,
	// pure-ftpd); the harness creates that user when it runs as root.
	SystemPeers bool
	// Progress receives one line per step.
	Progress io.Writer
	// ScaleFiles, when set, replaces scenario 4's file count (20 files a
	// directory), and CPUProfile receives a CPU profile of its in-process
	// start-up and rescans: the tools for finding where that time goes.
	ScaleFiles int
	CPUProfile string
}

// sizes are the workloads of one mode.
type sizes struct {
	pushFiles, pushDirs, pushSize int
	bigFile                       int64
	edits                         int
	scaleFiles, scaleDirs         int
	logins, uploaders             int
	uploadSize, streamSize        int64
}

var fullSizes = sizes{
	pushFiles: 2000, pushDirs: 20, pushSize: 4 << 10,
	bigFile:    512 << 20,
	edits:      100,
	scaleFiles: 100_000, scaleDirs: 5000,
	logins: 300, uploaders: 100, uploadSize: 10_000_000, streamSize: 256 << 20,
}

var smokeSizes = sizes{
	pushFiles: 50, pushDirs: 5, pushSize: 4 << 10,
	bigFile:    4 << 20,
	edits:      5,
	scaleFiles: 1000, scaleDirs: 50,
	logins: 20, uploaders: 5, uploadSize: 1_000_000, streamSize: 4 << 20,
}

func main() {
	var o options
	var list string
	flag.BoolVar(&o.Smoke, "smoke", false, "tiny sizes, one run each: checks the harness, not the speed")
	flag.IntVar(&o.Runs, "runs", 0, "runs per measurement (default 3, 1 with -smoke)")
	flag.StringVar(&o.Out, "out", "BENCHMARKS.md", "Markdown report to write")
	flag.StringVar(&list, "scenarios", "", "comma-separated scenario numbers (default all: 1,2,3,4,5)")
	flag.BoolVar(&o.SystemPeers, "system-peers", true, "also run vsftpd and pure-ftpd (needs root: creates the local user "+benchUser+")")
	flag.IntVar(&o.ScaleFiles, "scale-files", 0, "scenario 4's file count (default 100000, 1000 with -smoke)")
	flag.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of scenario 4's in-process start-up and rescans here")
	flag.Parse()
	sc, err := parseScenarios(list)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	o.Scenarios, o.Progress = sc, os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseScenarios(s string) (map[int]bool, error) {
	out := make(map[int]bool)
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 5 {
			return nil, fmt.Errorf("-scenarios: %q is not a scenario number 1-5", f)
		}
		out[n] = true
	}
	return out, nil
}

// env is what every scenario shares: binaries, servers, tools, sizes.
type env struct {
	opts      options
	sz        sizes
	work      string
	agentBin  string
	serverBin string
	tools     tools
	srv       *target   // syncserver
	peers     []*target // peer servers that started
	notes     []string  // peers skipped, and why
	disk      string    // the work directory's write rates (diskSpeed)
	warm      int       // bytes of page cache warmed before each timed run (settle)
}

func (e *env) progress(format string, args ...any) {
	if e.opts.Progress != nil {
		fmt.Fprintf(e.opts.Progress, "bench: "+format+"\n", args...)
	}
}

// run builds the binaries, starts the servers, runs the chosen scenarios
// and writes the report.
func run(ctx context.Context, o options) error {
	if o.Runs <= 0 {
		o.Runs = 3
		if o.Smoke {
			o.Runs = 1
		}
	}
	e := &env{opts: o, sz: fullSizes, tools: findTools(), warm: 1 << 30}
	if o.Smoke {
		e.sz, e.warm = smokeSizes, 0
	}
	if o.ScaleFiles > 0 {
		e.sz.scaleFiles, e.sz.scaleDirs = o.ScaleFiles, max(1, o.ScaleFiles/20)
	}
	work, err := os.MkdirTemp("", "syncbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	e.work = work
	if !o.Smoke {
		e.disk = diskSpeed(work)
	}
	e.progress("building syncagent and syncserver")
	if e.agentBin, e.serverBin, err = buildBinaries(ctx, work); err != nil {
		return err
	}
	if e.srv, err = startSyncserver(ctx, e.serverBin, mkdir(work, "syncserver"), "syncserver", ""); err != nil {
		return err
	}
	defer e.srv.stop()
	e.srv.trash = mkdir(work, "trash")
	if o.SystemPeers {
		for _, start := range []func(context.Context, string) (*target, error){startVsftpd, startPureFTPd} {
			t, err := start(ctx, mkdir(work, "peer"))
			if err != nil {
				e.notes = append(e.notes, err.Error())
				continue
			}
			defer t.stop()
			t.trash = e.srv.trash
			e.peers = append(e.peers, t)
		}
	} else {
		e.notes = append(e.notes, "vsftpd and pure-ftpd not run (-system-peers=false)")
	}
	for name, p := range map[string]string{"lftp": e.tools.lftp, "rclone": e.tools.rclone, "curl": e.tools.curl} {
		if p == "" {
			e.notes = append(e.notes, name+" is not installed: its rows are missing")
		}
	}
	scenarios := []func(context.Context, *env) (section, error){scenarioPush, scenarioBigFile, scenarioLatency, scenarioScale, scenarioServer}
	var secs []section
	for i, sc := range scenarios {
		if len(o.Scenarios) > 0 && !o.Scenarios[i+1] {
			continue
		}
		e.progress("scenario %d", i+1)
		s, err := sc(ctx, e)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.Notes = append(s.Notes, "scenario failed: "+err.Error())
			e.progress("scenario %d failed: %v", i+1, err)
		}
		secs = append(secs, s)
	}
	if err := writeReport(ctx, o, e, secs); err != nil {
		return err
	}
	e.progress("wrote %s", o.Out)
	return nil
}

// mkdir makes a fresh directory below parent.
func mkdir(parent, prefix string) string {
	d, err := os.MkdirTemp(parent, prefix+"-")
	if err != nil {
		panic(err) // the work directory is ours; failing here is a broken machine
	}
	return d
}
