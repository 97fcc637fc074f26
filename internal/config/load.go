package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the YAML file at path and decodes it over dst, a non-nil
// pointer the caller has pre-filled with defaults: keys absent from the file
// keep their default, and an empty file (or one of comments only) leaves dst
// untouched. ${NAME} references are expanded from the environment first.
//
// Every problem found is reported, each on its own line as
// "PATH: line N: ...": unset variables, YAML syntax, unknown keys (with a
// suggestion), values of the wrong type. Load does not validate the values;
// that is the caller's Validate. It is safe for concurrent use as long as
// the dst values differ.
func Load(path string, dst any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, dst)
}

// Parse is Load for data already in memory; name is used in messages in
// place of the file's path.
func Parse(name string, data []byte, dst any) error {
	return InFile(name, parse(data, dst, os.LookupEnv))
}

func parse(data []byte, dst any, lookup func(string) (string, bool)) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config: decode target must be a non-nil pointer, got %T", dst)
	}
	data, errs := expand(data, lookup)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: defaults
		}
		return yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return yamlError(err)
		}
		return lineErrorf(extra.Line, "a second YAML document starts here; a config file holds exactly one")
	}

	var c checker
	c.check(&doc, rv.Type().Elem(), "", 0)
	if len(c.errs) > 0 {
		return errors.Join(c.errs...)
	}

	// The checker has vetted the structure; the strict decode is the
	// authority all the same, and catches what the checker does not model.
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(dst); err != nil && !errors.Is(err, io.EOF) {
		return yamlError(err)
	}
	return nil
}

// LoadKeys reads from the file at path only the keys dst declares, over
// the defaults dst holds, for a command that needs one or two settings and
// not the rest (syncagent status needs status_listen, not the password).
// References to unset variables are left as written instead of failing,
// and unknown keys are ignored; a value dst needs that still holds "${" is
// for the caller to refuse. Safe for concurrent use as long as the dst
// values differ.
func LoadKeys(path string, dst any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	data, _ = expand(data, os.LookupEnv)
	if err := yaml.Unmarshal(data, dst); err != nil {
		return InFile(path, yamlError(err))
	}
	return nil
}

// yamlError rewrites a yaml library error into lines of "line N: ...",
// without the library's "yaml: " prefix. Only TypeErrors and syntax errors
// reach it: the checker has turned everything else into its own messages.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]error, len(te.Errors))
		for i, e := range te.Errors {
			errs[i] = errors.New(e)
		}
		return errors.Join(errs...)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	// yaml leaves the line out when the problem is on the first one.
	line := "line 1"
	if strings.HasPrefix(msg, "line ") {
		line, msg, _ = strings.Cut(msg, ": ")
	}
	return fmt.Errorf("%s: syntax error: %s", line, msg)
}

// Empty reports whether data, a config file, holds no settings: nothing,
// comments only, or an empty document.
func Empty(data []byte) bool {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return errors.Is(err, io.EOF)
	}
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return (n.Kind == yaml.MappingNode && len(n.Content) == 0) || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// AbsPath makes a configured file path absolute: a leading "~/" stands for
// the user's home directory, and a relative path is taken from the current
// directory. The result is cleaned. An empty path stays empty.
func AbsPath(p string) (string, error) {
	return AbsPathFrom("", p)
}

// AbsPathFrom is AbsPath taking a relative path from dir instead of the
// current directory (from the current directory when dir is "").
func AbsPathFrom(dir, p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if dir != "" && !filepath.IsAbs(p) && p != "~" && !strings.HasPrefix(p, "~/") {
		p = filepath.Join(dir, p)
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("expand %q: %w", p, err)
		}
		p = filepath.Join(home, p[1:])
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("make %q absolute: %w", p, err)
	}
	return abs, nil
}
