package agent

import (
	"testing"
	"time"
	"unsafe"

	"github.com/syncagent/syncagent/agent/remote"
)

// TestRemoteFactsRoundTrip: what the agent keeps of a listed entry gives
// back the entry, less its perm fact, down to the nanosecond, whatever
// the time (none, before 1970, far ahead) and however finely a LIST
// line gave it.
func TestRemoteFactsRoundTrip(t *testing.T) {
	for _, c := range []struct {
		rel string
		e   remote.Entry
	}{
		{"a/b/c.txt", remote.Entry{Name: "c.txt", Size: 123, ModTime: time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC), ID: "801g2a", Perm: "adfrw"}},
		{"top.txt", remote.Entry{Name: "top.txt", ModTime: time.Unix(-1, 5).UTC()}},
		{"d", remote.Entry{Name: "d", Dir: true}},
		{"x/far", remote.Entry{Name: "far", Size: 1, ModTime: time.Date(2500, 1, 1, 0, 0, 0, 1, time.UTC)}},
		{"x/old", remote.Entry{Name: "old", ModTime: time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"l/min", remote.Entry{Name: "min", ModTime: time.Date(2026, 12, 1, 21, 28, 0, 0, time.UTC), TimePrecision: remote.ListMinute}},
		{"l/day", remote.Entry{Name: "day", ModTime: time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC), TimePrecision: remote.ListDay}},
	} {
		want := c.e
		want.Perm = ""
		got := factsOf(c.e).entry(c.rel)
		if got != want {
			t.Errorf("%s: %+v, want %+v", c.rel, got, want)
		}
		if got.ModTime.IsZero() != c.e.ModTime.IsZero() {
			t.Errorf("%s: zero time not kept", c.rel)
		}
	}
	if n := unsafe.Sizeof(remoteFacts{}); n > 40 {
		t.Errorf("remoteFacts is %d bytes, want at most 40", n)
	}
}
