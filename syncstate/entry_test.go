package syncstate

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEntryRoundTrip(t *testing.T) {
	hash := sha256.Sum256([]byte("hello"))
	tests := []Entry{
		{Path: "a"},
		{Path: "dir", Dir: true, MTime: time.Unix(1700000000, 5)},
		{
			Path: "a/b.txt", Size: 12345, MTime: time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
			Hash: hash, RemoteSize: 12345, RemoteMTime: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
			RemoteID: "801g4804ca",
		},
		// Outside time.UnixNano's range: local clocks can say anything.
		{Path: "old", MTime: time.Date(1601, 1, 1, 0, 0, 0, 1, time.UTC), RemoteMTime: time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Path: "neg", Size: -1, RemoteSize: -1, MTime: time.Unix(-1, 0)},
		{Path: "zone", MTime: time.Date(2020, 1, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))},
		{Path: "ünï/cødé", RemoteID: strings.Repeat("x", 300)},
	}
	for _, e := range tests {
		buf := appendEntry(nil, e)
		got, err := decodeEntry(e.Path, buf)
		if err != nil {
			t.Fatalf("%q: %v", e.Path, err)
		}
		if !got.Equal(e) {
			t.Errorf("%q: got %+v, want %+v", e.Path, got, e)
		}
		if got.MTime.Location() != time.UTC || got.RemoteMTime.Location() != time.UTC {
			t.Errorf("%q: times not in UTC", e.Path)
		}
		if e.MTime.IsZero() != got.MTime.IsZero() {
			t.Errorf("%q: zero MTime not kept", e.Path)
		}
	}
}

func TestEntryCompact(t *testing.T) {
	e := Entry{Path: "x", Size: 1 << 20, MTime: time.Now(), Hash: sha256.Sum256(nil), RemoteSize: 1 << 20, RemoteMTime: time.Now().Truncate(time.Second)}
	if n := len(appendEntry(nil, e)); n > 64 {
		t.Errorf("encoded entry is %d bytes, want at most 64", n)
	}
}

func TestDecodeEntryCorrupt(t *testing.T) {
	good := appendEntry(nil, Entry{Path: "p", Size: 7, MTime: time.Unix(1, 2), Hash: [32]byte{1}, RemoteID: "id"})
	bad := [][]byte{
		nil,
		{},
		{9, 0, 0, 0},                         // unknown encoding
		good[:len(good)-1],                   // truncated
		append(append([]byte{}, good...), 0), // trailing byte
		{entryEncoding, flagMTime, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}, // nanoseconds >= 1e9
	}
	for i, v := range bad {
		if _, err := decodeEntry("p", v); !errors.Is(err, errCorrupt) {
			t.Errorf("case %d: err = %v, want errCorrupt", i, err)
		}
	}
	// Every prefix of a valid value is rejected, never a panic.
	for i := range good {
		if _, err := decodeEntry("p", good[:i]); err == nil {
			t.Errorf("prefix %d decoded", i)
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(appendEntry(nil, Entry{Path: "p", Dir: true}))
	f.Add(appendEntry(nil, Entry{Path: "p", Size: 3, MTime: time.Unix(5, 6), Hash: [32]byte{2}, RemoteID: "u"}))
	f.Fuzz(func(t *testing.T, v []byte) {
		e, err := decodeEntry("p", v)
		if err != nil {
			return
		}
		// Whatever decodes must survive a round trip.
		again, err := decodeEntry("p", appendEntry(nil, e))
		if err != nil || !again.Equal(e) {
			t.Fatalf("round trip of %+v: %+v, %v", e, again, err)
		}
	})
}

func TestCheckPath(t *testing.T) {
	good := []string{"a", "a/b.txt", "a b/c", ".hidden", "a/..b", `back\slash`, "..."}
	bad := []string{"", "/a", "a/", "a//b", "./a", "a/./b", "a/..", "../a", ".", "..", "a\x00b", strings.Repeat("x", maxKeySize+1)}
	for _, p := range good {
		if err := checkPath(p); err != nil {
			t.Errorf("checkPath(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range bad {
		if err := checkPath(p); err == nil {
			t.Errorf("checkPath(%q) = nil, want error", p)
		}
	}
}

func TestUnder(t *testing.T) {
	tests := []struct {
		p, d string
		want bool
	}{
		{"a", "a", true},
		{"a/b", "a", true},
		{"a/b/c", "a/b", true},
		{"ab", "a", false},
		{"a.txt", "a", false},
		{"b/a", "a", false},
		{"a", "a/b", false},
	}
	for _, tt := range tests {
		if got := under(tt.p, tt.d); got != tt.want {
			t.Errorf("under(%q, %q) = %v", tt.p, tt.d, got)
		}
	}
}
