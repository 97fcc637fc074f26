package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDurationYAML(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"50ms": 50 * time.Millisecond, "30s": 30 * time.Second, "5m": 5 * time.Minute,
		"720h": 720 * time.Hour, "1h30m": 90 * time.Minute, "0": 0, `"2m"`: 2 * time.Minute,
	} {
		var d Duration
		if err := yaml.Unmarshal([]byte(in), &d); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if d.D() != want {
			t.Errorf("%s: got %v, want %v", in, d.D(), want)
		}
	}
}

func TestDurationErrorsNameTheValue(t *testing.T) {
	for in, want := range map[string]string{
		"5x":    `"5x" is not a duration`,
		"300":   `"300" is not a duration: add a unit, such as "300s"`,
		"[1]":   `want a duration such as "5m", got a list`,
		"later": `line 1: "later" is not a duration`,
	} {
		var d Duration
		err := yaml.Unmarshal([]byte(in), &d)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want %q in error, got %v", in, want, err)
		}
	}
}

func TestDurationMarshal(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5m", 720 * time.Hour: "720h", 90 * time.Minute: "1h30m",
		50 * time.Millisecond: "50ms", 90 * time.Second: "1m30s", 0: "0s",
	} {
		out, err := yaml.Marshal(Duration(d))
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("Marshal(%v) = %q, %v; want %q", d, out, err, want)
		}
		var back Duration
		if err := yaml.Unmarshal(out, &back); err != nil || back.D() != d {
			t.Errorf("round trip %v: got %v, %v", d, back.D(), err)
		}
	}
	var d Duration
	if err := d.UnmarshalText([]byte("15m")); err != nil || d.D() != 15*time.Minute {
		t.Errorf("UnmarshalText: %v, %v", d, err)
	}
	if err := d.UnmarshalText([]byte("15")); err == nil {
		t.Error("UnmarshalText(15): want an error")
	}
}
