//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// editFiles is how many files the edits cycle over.
const editFiles = 10

// agentProc is a running `syncagent run`.
type agentProc struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

func startAgent(ctx context.Context, bin, config string) (*agentProc, error) {
	p := &agentProc{out: new(bytes.Buffer)}
	p.cmd = exec.CommandContext(ctx, bin, "run", "-config", config, "-log-level", "warn")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start syncagent: %w", err)
	}
	return p, nil
}

func (p *agentProc) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// waitFiles waits until dir holds n files, at most limit.
func waitFiles(dir string, n int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if c, _ := countFiles(dir); c == n {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

type stampedEvent struct {
	name string
	at   time.Time
}

// scenarioLatency is scenario 3: the time from a closed write to the
// complete file under its name on the server, with `syncagent run` at
// default settings (50 ms debounce). The server's directory is watched
// with inotify, and an event counts once the file there has the new
// content.
func scenarioLatency(ctx context.Context, e *env) (section, error) {
	s := section{Title: fmt.Sprintf("3. Change latency: %d single small edits", e.sz.edits),
		Text: "`syncagent run` at default settings (debounce 50 ms). Each edit rewrites one of 10 small files, " +
			"then waits for inotify on the server's directory to report the file complete under its name with " +
			"the new content (the final rename into place)."}
	t := e.srv
	if err := t.reset(); err != nil {
		return s, err
	}
	local := mkdir(e.work, "edits")
	state := mkdir(e.work, "state")
	defer os.RemoveAll(local)
	defer os.RemoveAll(state)
	content := func(file, edit int) []byte {
		return []byte(fmt.Sprintf("file %d edit %d %s\n", file, edit, strings.Repeat("x", 200)))
	}
	for i := range editFiles {
		if err := os.WriteFile(filepath.Join(local, fmt.Sprintf("edit%02d.txt", i)), content(i, -1), 0o644); err != nil {
			return s, err
		}
	}
	cfg, err := writeAgentConfig(state, t, local, "/edits", "push", "")
	if err != nil {
		return s, err
	}
	agent, err := startAgent(ctx, e.agentBin, cfg)
	if err != nil {
		return s, err
	}
	defer agent.stop()
	remote := filepath.Join(t.home, "edits")
	if !waitFiles(remote, editFiles, time.Minute) {
		return s, fmt.Errorf("initial sync did not finish: %s", tail(agent.out.String(), 600))
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return s, err
	}
	defer w.Close()
	if err := w.Add(remote); err != nil {
		return s, err
	}
	events := make(chan stampedEvent, 1024)
	go func() {
		for ev := range w.Events {
			if ev.Op&(fsnotify.Create|fsnotify.Write) != 0 {
				events <- stampedEvent{name: filepath.Base(ev.Name), at: time.Now()}
			}
		}
		close(events)
	}()
	var lat []time.Duration
	timeouts := 0
	for i := range e.sz.edits {
		if ctx.Err() != nil {
			return s, ctx.Err()
		}
		f := i % editFiles
		name := fmt.Sprintf("edit%02d.txt", f)
		want := content(f, i)
		if err := os.WriteFile(filepath.Join(local, name), want, 0o644); err != nil {
			return s, err
		}
		start := time.Now()
		deadline := time.After(10 * time.Second)
	wait:
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					return s, fmt.Errorf("inotify watcher closed")
				}
				if ev.name != name {
					continue
				}
				if got, err := os.ReadFile(filepath.Join(remote, name)); err == nil && bytes.Equal(got, want) {
					lat = append(lat, ev.at.Sub(start))
					break wait
				}
			case <-deadline:
				timeouts++
				lat = append(lat, 10*time.Second)
				break wait
			}
		}
		time.Sleep(20 * time.Millisecond) // let the agent go idle between edits
	}
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	tab := table{Headers: []string{"measure", "value", "target"}}
	tab.Rows = append(tab.Rows,
		[]string{"p50", secs(p50), verdict(p50 <= 100*time.Millisecond, "≤ 100 ms")},
		[]string{"p99", secs(p99), verdict(p99 <= 250*time.Millisecond, "≤ 250 ms")},
		[]string{"min / max", secs(percentile(lat, 0)) + " / " + secs(percentile(lat, 100)), ""},
	)
	s.Tables = append(s.Tables, tab)
	if timeouts > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d edits did not arrive within 10 s (counted as 10 s); the agent said: %s",
			timeouts, tail(agent.out.String(), 400)))
	}
	return s, nil
}
