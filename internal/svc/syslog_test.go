package svc

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// recordingLogger stands in for the Windows Event Log, which cannot run
// here: it records what would have been written and at which severity.
type recordingLogger struct {
	mu    sync.Mutex
	lines []string
}

func (r *recordingLogger) add(sev string, v ...any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, sev+": "+fmt.Sprint(v...))
	return nil
}
func (r *recordingLogger) Error(v ...any) error   { return r.add("error", v...) }
func (r *recordingLogger) Warning(v ...any) error { return r.add("warning", v...) }
func (r *recordingLogger) Info(v ...any) error    { return r.add("info", v...) }
func (r *recordingLogger) Errorf(f string, a ...any) error {
	return r.add("error", fmt.Sprintf(f, a...))
}
func (r *recordingLogger) Warningf(f string, a ...any) error {
	return r.add("warning", fmt.Sprintf(f, a...))
}
func (r *recordingLogger) Infof(f string, a ...any) error { return r.add("info", fmt.Sprintf(f, a...)) }

func TestSystemHandlerMapsLevelsAndAttrs(t *testing.T) {
	rec := &recordingLogger{}
	var stderr strings.Builder
	base := slog.New(slog.NewTextHandler(&stderr, nil))
	l := slog.New(fanout{base.Handler(), &systemHandler{sys: rec, level: slog.LevelInfo}}).With("folder", "docs")
	l.Debug("not shown")
	l.Info("uploaded", "path", "a.txt", "bytes", 3)
	l.Warn("conflict", "path", "b.txt")
	l.WithGroup("srv").Error("failed", "err", "boom")
	want := []string{
		"info: uploaded folder=docs path=a.txt bytes=3",
		"warning: conflict folder=docs path=b.txt",
		"error: failed folder=docs srv.err=boom",
	}
	if strings.Join(rec.lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("system log got:\n%s\nwant:\n%s", strings.Join(rec.lines, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(stderr.String(), "msg=uploaded") || strings.Contains(stderr.String(), "not shown") {
		t.Fatalf("stderr copy wrong:\n%s", stderr.String())
	}
}
