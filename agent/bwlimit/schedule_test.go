package bwlimit

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	day := func(h, m int) time.Time { return time.Date(2026, 12, 2, h, m, 0, 0, time.Local) }
	for _, tc := range []struct {
		in    string
		at    time.Time
		want  Rates
		force string
	}{
		{"", day(12, 0), Rates{}, ""},
		{"off", day(12, 0), Rates{}, ""},
		{"10M", day(12, 0), Rates{10 << 20, 10 << 20}, "10M"},
		{"512", day(12, 0), Rates{512 << 10, 512 << 10}, "512K"},
		{"1.5M", day(12, 0), Rates{3 << 19, 3 << 19}, "1536K"},
		{"100B", day(12, 0), Rates{100, 100}, "100B"},
		{"10M:2M", day(12, 0), Rates{10 << 20, 2 << 20}, "10M:2M"},
		{"off:1G", day(12, 0), Rates{0, 1 << 30}, "off:1G"},
		{"08:00,1M 19:00,off", day(12, 0), Rates{1 << 20, 1 << 20}, "1M since 08:00"},
		{"08:00,1M 19:00,off", day(19, 0), Rates{}, "off since 19:00"},
		{"08:00,1M 19:00,off", day(7, 59), Rates{}, "off since 19:00"},
		{"19:00,off 08:00,1M:256K", day(8, 0), Rates{1 << 20, 256 << 10}, "1M:256K since 08:00"},
	} {
		s, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := s.At(tc.at); got != tc.want {
			t.Errorf("Parse(%q).At(%s) = %+v, want %+v", tc.in, tc.at.Format("15:04"), got, tc.want)
		}
		if got := s.InForce(tc.at); got != tc.force {
			t.Errorf("Parse(%q).InForce(%s) = %q, want %q", tc.in, tc.at.Format("15:04"), got, tc.force)
		}
	}
	for _, bad := range []string{"10X", "0", "-1M", "M", "25:00,1M", "08:00", "08:00,1M 08:00,2M", "1M:", "08:00,fast"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if New(Schedule{}) != nil || New(mustParse(t, "08:00,off 09:00,off")) != nil {
		t.Error("a schedule that limits nothing made a Limiter")
	}
}

func mustParse(t testing.TB, s string) Schedule {
	t.Helper()
	sc, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
