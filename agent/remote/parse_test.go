package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/textproto"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestParseMLSx(t *testing.T) {
	for _, c := range []struct {
		line string
		want Entry
		ok   bool
	}{
		{"type=file;size=12;modify=20240102030405;unique=801g1; a b.txt", Entry{Name: "a b.txt", Size: 12, ModTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), ID: "801g1"}, true},
		{"Type=DIR;Modify=20240102030405.123; sub", Entry{Name: "sub", Dir: true, ModTime: time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.UTC)}, true},
		{"type=cdir; .", Entry{}, false},
		{"type=OS.unix=symlink;size=3; link", Entry{}, false},
		{"type=file;size=1;", Entry{}, false},
		{"type=file;size=1; name; with; semis ", Entry{Name: "name; with; semis ", Size: 1}, true},
	} {
		got, ok := parseMLSx(c.line)
		if ok != c.ok || !got.ModTime.Equal(c.want.ModTime) || got.Name != c.want.Name || got.Size != c.want.Size || got.Dir != c.want.Dir || got.ID != c.want.ID {
			t.Errorf("parseMLSx(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

func TestParseFeat(t *testing.T) {
	msg := "Extensions supported:\n AUTH TLS\n HASH SHA-1;SHA-256*;MD5\n MLST type*;size*;\n MFMT\n REST STREAM\n UTF8\n SIZE\nEnd"
	got := parseFeat(msg)
	want := Caps{MLSD: true, HASH: true, HashSHA256: true, MFMT: true, REST: true, UTF8: true, TLS: true, SIZE: true}
	if got != want {
		t.Errorf("parseFeat = %+v, want %+v", got, want)
	}
	if c := parseFeat("x\n HASH MD5;CRC32\n REST\nEnd"); c.HashSHA256 || !c.HASH || c.REST {
		t.Errorf("parseFeat without SHA-256 or STREAM = %+v", c)
	}
}

func TestIsTransient(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{io.EOF, true},
		{fmt.Errorf("x: %w", os.ErrDeadlineExceeded), true},
		{&textproto.Error{Code: 421, Msg: "closing"}, true},
		{&textproto.Error{Code: 451, Msg: "local error"}, true},
		{&textproto.Error{Code: 550, Msg: "denied"}, false},
		{&textproto.Error{Code: 553, Msg: "bad name"}, false},
		{fmt.Errorf("op: %w", context.Canceled), false},
		{context.DeadlineExceeded, true},
		{ErrSourceChanged, true},
		{ErrVerify, true},
		{ErrNotSupported, false},
		{ErrNotFile, false},
		{local(os.ErrPermission), false},
		// An errno from opening a local file satisfies net.Error but is no network failure.
		{local(fmt.Errorf("upload: %w", &fs.PathError{Op: "open", Path: "x", Err: syscall.EACCES})), false},
		{&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{&fs.PathError{Op: "remove", Path: "x", Err: syscall.EACCES}, false},
		{&os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EXDEV}, false},
		{errors.Join(local(os.ErrPermission), io.ErrUnexpectedEOF), true},
	} {
		if got := IsTransient(c.err); got != c.want {
			t.Errorf("IsTransient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	base, max := 100*time.Millisecond, 5*time.Second
	for attempt := range 40 {
		d := Backoff(attempt, base, max)
		ceil := base << min(attempt, 10)
		if ceil > max {
			ceil = max
		}
		if d < ceil/2 || d > ceil {
			t.Errorf("Backoff(%d) = %v, want in [%v, %v]", attempt, d, ceil/2, ceil)
		}
	}
	if Backoff(3, 0, time.Second) != 0 {
		t.Error("zero base should give zero")
	}
}

// TestSameTimeAtListPrecision: a time known to the second matches a LIST
// time of the same minute (or, for an old file's date, the same day), and
// nothing else.
func TestSameTimeAtListPrecision(t *testing.T) {
	exact := time.Date(2026, 12, 1, 21, 28, 44, 0, time.UTC)
	for _, c := range []struct {
		listed time.Time
		prec   time.Duration
		want   bool
	}{
		{exact, 0, true},
		{time.Date(2026, 12, 1, 21, 28, 0, 0, time.UTC), 0, false},
		{time.Date(2026, 12, 1, 21, 28, 0, 0, time.UTC), ListMinute, true},
		{time.Date(2026, 12, 1, 21, 29, 0, 0, time.UTC), ListMinute, false},
		{time.Date(2026, 12, 1, 21, 27, 0, 0, time.UTC), ListMinute, false},
		{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), ListDay, true},
		{time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), ListDay, false},
	} {
		if got := SameTime(exact, c.listed, c.prec); got != c.want {
			t.Errorf("SameTime(%v, %v, %v) = %v, want %v", exact, c.listed, c.prec, got, c.want)
		}
	}
	for _, c := range []struct {
		t    time.Time
		want time.Duration
	}{
		{time.Time{}, 0},
		{time.Date(2026, 12, 1, 21, 28, 0, 0, time.UTC), ListMinute},
		{time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC), ListDay},
	} {
		if got := listPrecision(c.t); got != c.want {
			t.Errorf("listPrecision(%v) = %v, want %v", c.t, got, c.want)
		}
	}
}
