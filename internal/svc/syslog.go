package svc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/kardianos/service"
)

// systemHandler sends log records to the OS's system log through
// kardianos/service (the Windows Event Log; syslog elsewhere), one line per
// record in slog's key=value style. Safe for concurrent use.
type systemHandler struct {
	sys   service.Logger
	level slog.Leveler
	attrs string // pre-formatted attributes from WithAttrs
	group string
}

func (h *systemHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *systemHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.group, a)
		return true
	})
	switch {
	case r.Level >= slog.LevelError:
		return h.sys.Error(b.String())
	case r.Level >= slog.LevelWarn:
		return h.sys.Warning(b.String())
	}
	return h.sys.Info(b.String())
}

func (h *systemHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		writeAttr(&b, h.group, a)
	}
	c := *h
	c.attrs = b.String()
	return &c
}

func (h *systemHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.group = h.group + name + "."
	return &c
}

func writeAttr(b *strings.Builder, group string, a slog.Attr) {
	fmt.Fprintf(b, " %s%s=%v", group, a.Key, a.Value.Resolve())
}

// fanout sends every record to each of its handlers.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var first error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

func (f fanout) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(attrs)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

// withSystemLog returns base, also writing to the system log when the
// service manager offers one that stderr does not already reach (systemd's
// journal and the SysV script's logger pipe read stderr; the Windows Event
// Log does not).
func withSystemLog(s service.Service, base *slog.Logger, level slog.Leveler) *slog.Logger {
	if service.Platform() != "windows-service" {
		return base
	}
	sys, err := s.SystemLogger(nil)
	if err != nil {
		base.Warn("system log unavailable; logging to stderr only", "err", err)
		return base
	}
	return slog.New(fanout{base.Handler(), &systemHandler{sys: sys, level: level}})
}
