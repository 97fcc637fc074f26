package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in configuration files as a Go
// duration string such as "50ms", "5m" or "720h". Like time.Duration it is a
// plain value, safe to copy and to read concurrently.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d the way a person writes it in a config file: "5m" rather
// than time.Duration's "5m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseDuration parses s as a Duration, with an error message meant for the
// person who wrote s.
func ParseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err == nil {
		return Duration(v), nil
	}
	hint := `want a number with a unit, such as "50ms", "30s", "5m" or "1h"`
	if s != "" && strings.Trim(s, "0123456789") == "" {
		hint = fmt.Sprintf(`add a unit, such as "%ss" or "%sm"`, s, s)
	}
	return 0, fmt.Errorf("%q is not a duration: %s", s, hint)
}

// UnmarshalYAML implements yaml.Unmarshaler. Its errors carry the node's
// line, as yaml's own type errors do.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{
			fmt.Sprintf(`line %d: want a duration such as "5m", got %s`, n.Line, describeNode(n)),
		}}
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalYAML implements yaml.Marshaler, writing d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalText implements encoding.TextUnmarshaler, so a Duration also
// works as a flag.TextVar or a JSON string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
