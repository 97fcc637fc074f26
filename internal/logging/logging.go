// Package logging builds the slog logger both binaries use, from the
// level and format named in their config files.
package logging

import (
	"io"
	"log/slog"
	"strings"
)

// New returns a logger writing to w as text or JSON at the given level
// ("debug", "info", "warn", "error"; anything else means info).
func New(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: lv}
	if strings.ToLower(format) == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
