package config

import (
	"errors"
	"fmt"
)

// FieldError is one problem with one configuration setting. Key is the
// setting's path as written in the file ("listen", "tls.cert",
// "users[2].home", "servers.backup.address"); Msg says what is wrong in words
// meant for the person editing the file.
type FieldError struct {
	Key string
	Msg string
}

// Error returns "KEY: MSG", or MSG alone when the problem has no key.
func (e *FieldError) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return e.Key + ": " + e.Msg
}

// FieldErrors collects the problems a Validate method finds so that it can
// report all of them at once. The zero value is ready to use; it is not safe
// for concurrent use.
type FieldErrors struct {
	list []error
}

// Add records a problem with key, formatting the message like fmt.Sprintf.
func (fe *FieldErrors) Add(key, format string, args ...any) {
	fe.list = append(fe.list, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Err returns nil when nothing was recorded, otherwise every problem joined
// with errors.Join (one per line, each a *FieldError for errors.As).
func (fe *FieldErrors) Err() error {
	if len(fe.list) == 0 {
		return nil
	}
	return errors.Join(fe.list...)
}

// InFile prefixes err with the file name it concerns. When err joins several
// errors (errors.Join), each one is prefixed, so a multi-line report reads
// like a compiler's: "server.yaml: listen: ...", "server.yaml: users[0]...".
// It returns nil for a nil err.
func InFile(name string, err error) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = fmt.Errorf("%s: %w", name, e)
		}
		return errors.Join(out...)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// lineError is a problem found at a line of a file before validation:
// a syntax error, an unknown key, a wrong type, an unset variable.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string {
	if e.line <= 0 {
		return e.msg
	}
	return fmt.Sprintf("line %d: %s", e.line, e.msg)
}

func lineErrorf(line int, format string, args ...any) error {
	return &lineError{line: line, msg: fmt.Sprintf(format, args...)}
}
