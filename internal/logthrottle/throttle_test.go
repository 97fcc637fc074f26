package logthrottle

import (
	"testing"
	"time"
)

// TestThrottle retries every second for three hours: the same failure is
// logged at 0, 1 min, 3 min, 7 min, ... (intervals doubling to the cap),
// a new failure at once, and the recovery once.
func TestThrottle(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	start := now
	th := Throttle{First: time.Minute, Max: 30 * time.Minute, Now: func() time.Time { return now }}
	var at []time.Duration
	unloggedTotal := 0
	for i := 0; i < 3*3600; i++ {
		if log, n := th.Fail("connect: refused"); log {
			at = append(at, now.Sub(start))
			unloggedTotal += n
		}
		now = now.Add(time.Second)
	}
	want := []time.Duration{0, time.Minute, 3 * time.Minute, 7 * time.Minute, 15 * time.Minute, 31 * time.Minute,
		61 * time.Minute, 91 * time.Minute, 121 * time.Minute, 151 * time.Minute}
	if len(at) != len(want) {
		t.Fatalf("logged at %v, want %v", at, want)
	}
	for i, w := range want {
		if at[i] != w {
			t.Fatalf("logged at %v, want %v", at, want)
		}
	}
	if unloggedTotal+len(at)+th.quiet != 3*3600 {
		t.Errorf("%d logged + %d reported unlogged, want every one of %d failures counted", len(at), unloggedTotal, 3*3600)
	}
	if log, _ := th.Fail("login: 530"); !log {
		t.Error("a different failure was not logged at once")
	}
	ok, n, d := th.Recover()
	if !ok || n != 3*3600+1 || d != 3*time.Hour {
		t.Errorf("Recover() = %v, %d, %v; want true, %d, 3h", ok, n, d, 3*3600+1)
	}
	if ok, _, _ := th.Recover(); ok {
		t.Error("a second success reported a recovery again")
	}
	if log, _ := th.Fail("connect: refused"); !log {
		t.Error("the first failure after a recovery was not logged")
	}
}
