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
	opts := &slog.HandlerOptions{Level: Level(level)}
	if strings.ToLower(format) == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Level parses a config level name; anything unknown means info.
func Level(name string) slog.Level {
	switch strings.ToLower(name) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
