package bwlimit

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Rates are bytes per second each way; 0 means no limit.
type Rates struct {
	Up, Down int64
}

// String writes r as the setting does: "off", "1M", or "1M:512K".
func (r Rates) String() string {
	if r.Up == r.Down {
		return formatRate(r.Up)
	}
	return formatRate(r.Up) + ":" + formatRate(r.Down)
}

// Schedule is a parsed bwlimit setting: the rates for each time of day.
// The zero Schedule limits nothing. It is a plain value, safe to share.
type Schedule struct {
	slots []slot // sorted by start; empty: no limit
}

// slot is a timetable entry: from start (minutes after midnight, local
// time) until the next entry's start, rates apply.
type slot struct {
	start int
	rates Rates
}

// Parse reads a bwlimit setting: "" or "off" (no limit); a rate such as
// "10M" for both ways; "UP:DOWN" such as "10M:2M"; or a timetable of
// "HH:MM,RATE" entries separated by spaces, each rate being one of the
// above, in force from that time of day until the next entry (the last
// entry runs past midnight until the first). A rate is a number of KiB/s
// or a number with the suffix B, K, M or G (bytes, KiB, MiB, GiB per
// second), as rclone's --bwlimit.
func Parse(s string) (Schedule, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "off" {
		return Schedule{}, nil
	}
	if !strings.Contains(s, ",") {
		r, err := parseRates(s)
		if err != nil {
			return Schedule{}, err
		}
		return Schedule{slots: []slot{{0, r}}}, nil
	}
	var sc Schedule
	seen := map[int]bool{}
	for _, f := range strings.Fields(s) {
		when, rate, ok := strings.Cut(f, ",")
		if !ok {
			return Schedule{}, fmt.Errorf("%q: want HH:MM,RATE", f)
		}
		t, err := time.Parse("15:04", when)
		if err != nil {
			return Schedule{}, fmt.Errorf("%q: %q is not a time of day (HH:MM)", f, when)
		}
		r, err := parseRates(rate)
		if err != nil {
			return Schedule{}, fmt.Errorf("%q: %w", f, err)
		}
		start := t.Hour()*60 + t.Minute()
		if seen[start] {
			return Schedule{}, fmt.Errorf("%s appears twice", when)
		}
		seen[start] = true
		sc.slots = append(sc.slots, slot{start, r})
	}
	sort.Slice(sc.slots, func(i, j int) bool { return sc.slots[i].start < sc.slots[j].start })
	return sc, nil
}

// Limited reports whether s limits anything at any time.
func (s Schedule) Limited() bool {
	for _, sl := range s.slots {
		if sl.rates != (Rates{}) {
			return true
		}
	}
	return false
}

// At returns the rates in force at t (its local time of day).
func (s Schedule) At(t time.Time) Rates {
	r, _ := s.at(t)
	return r
}

// at returns the rates in force at t and the index of their slot.
func (s Schedule) at(t time.Time) (Rates, int) {
	if len(s.slots) == 0 {
		return Rates{}, -1
	}
	m := t.Hour()*60 + t.Minute()
	i := sort.Search(len(s.slots), func(i int) bool { return s.slots[i].start > m }) - 1
	if i < 0 {
		i = len(s.slots) - 1 // before the first entry: the last one, since yesterday
	}
	return s.slots[i].rates, i
}

// InForce describes the limit at t for the status page: "off", "1M",
// "1M:512K" (up:down), followed by the timetable entry's start when
// there is a timetable ("1M since 08:00").
func (s Schedule) InForce(t time.Time) string {
	r, i := s.at(t)
	if i < 0 {
		return ""
	}
	out := r.String()
	if len(s.slots) > 1 {
		sl := s.slots[i]
		out += fmt.Sprintf(" since %02d:%02d", sl.start/60, sl.start%60)
	}
	return out
}

func parseRates(s string) (Rates, error) {
	up, down, two := strings.Cut(s, ":")
	u, err := parseRate(up)
	if err != nil {
		return Rates{}, err
	}
	if !two {
		return Rates{u, u}, nil
	}
	d, err := parseRate(down)
	if err != nil {
		return Rates{}, err
	}
	return Rates{u, d}, nil
}

// parseRate reads one rate in bytes per second; "off" is 0.
func parseRate(s string) (int64, error) {
	if s == "off" {
		return 0, nil
	}
	mult := float64(1 << 10)
	num := s
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'b', 'B':
			mult, num = 1, s[:n-1]
		case 'k', 'K':
			mult, num = 1<<10, s[:n-1]
		case 'm', 'M':
			mult, num = 1<<20, s[:n-1]
		case 'g', 'G':
			mult, num = 1<<30, s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || v*mult < 1 || v*mult > 1<<50 {
		return 0, fmt.Errorf(`rate %q: want "off" or a positive number with B, K, M or G (per second), e.g. "10M"`, s)
	}
	return int64(v * mult), nil
}

// formatRate writes a rate as a setting would, in the largest unit that
// keeps it whole, or "off" for 0.
func formatRate(n int64) string {
	if n == 0 {
		return "off"
	}
	for _, u := range []struct {
		size int64
		sfx  string
	}{{1 << 30, "G"}, {1 << 20, "M"}, {1 << 10, "K"}} {
		if n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.sfx
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
