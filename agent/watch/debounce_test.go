package watch

import (
	"slices"
	"testing"
	"time"
)

func TestDebouncer(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type touch struct {
		path string
		ms   int
	}
	tests := []struct {
		name    string
		touches []touch
		now     int
		want    []string
		next    int // ms of the next deadline; -1 for none
	}{
		{"quiet not yet", []touch{{"a", 0}}, 49, nil, 50},
		{"quiet reached", []touch{{"a", 0}}, 50, []string{"a"}, -1},
		{"later event extends", []touch{{"a", 0}, {"a", 40}}, 60, nil, 90},
		{"same tick together", []touch{{"a", 0}, {"b", 1}, {"c", 2}}, 52, []string{"a", "b", "c"}, -1},
		{"only the quiet ones", []touch{{"a", 0}, {"b", 30}}, 50, []string{"a"}, 80},
		{"max delay beats quiet", []touch{{"a", 0}, {"a", 40}, {"a", 80}, {"a", 120}, {"a", 160}, {"a", 199}}, 200, []string{"a"}, -1},
		{"max delay not yet", []touch{{"a", 0}, {"a", 40}, {"a", 80}, {"a", 120}, {"a", 160}, {"a", 190}}, 199, nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDebouncer(50*time.Millisecond, 200*time.Millisecond)
			for _, tc := range tt.touches {
				d.touch(tc.path, at(tc.ms))
			}
			got, next := d.due(at(tt.now), nil)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("due = %q, want %q", got, tt.want)
			}
			switch {
			case tt.next < 0 && !next.IsZero():
				t.Errorf("next = %v, want none", next.Sub(t0))
			case tt.next >= 0 && !next.Equal(at(tt.next)):
				t.Errorf("next = %v, want %dms", next.Sub(t0), tt.next)
			}
			distinct := make(map[string]bool)
			for _, tc := range tt.touches {
				distinct[tc.path] = true
			}
			if d.len() != len(distinct)-len(got) {
				t.Errorf("%d paths still pending", d.len())
			}
		})
	}
}

// A path reported by MaxDelay starts over: the next event waits again.
func TestDebouncerStartsOverAfterReport(t *testing.T) {
	t0 := time.Now()
	d := newDebouncer(50*time.Millisecond, 100*time.Millisecond)
	d.touch("a", t0)
	d.touch("a", t0.Add(90*time.Millisecond))
	if got, _ := d.due(t0.Add(100*time.Millisecond), nil); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("due = %q", got)
	}
	d.touch("a", t0.Add(110*time.Millisecond))
	if got, next := d.due(t0.Add(150*time.Millisecond), nil); len(got) != 0 || !next.Equal(t0.Add(160*time.Millisecond)) {
		t.Fatalf("due = %q, next %v", got, next.Sub(t0))
	}
}

func TestOutbox(t *testing.T) {
	o := newOutbox()
	if !o.empty() {
		t.Fatal("new outbox not empty")
	}
	o.add("b")
	o.add("a")
	o.add("b")
	if b := o.batch(); !slices.Equal(b.Paths, []string{"a", "b"}) || b.Rescan {
		t.Fatalf("batch = %+v", b)
	}
	o.setRescan()
	if b := o.batch(); !b.Rescan || len(b.Paths) != 2 {
		t.Fatalf("batch after rescan = %+v", b)
	}
	o.clear()
	if !o.empty() {
		t.Fatal("outbox not empty after clear")
	}
}
