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
