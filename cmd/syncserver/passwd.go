package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"
)

// Password lengths passwd accepts: a shorter one falls to guessing, and
// bcrypt ignores every byte past 72.
const (
	minPasswordLen = 8
	maxPasswordLen = 72
)

// passwd reads a password and prints its bcrypt hash, for the
// password_hash key of a user. On a terminal it asks twice without echo;
// otherwise it reads one line from stdin, so that
// `syncserver passwd < file` keeps the password out of shell history.
func (m *Main) passwd(args []string) error {
	fs := m.flags("passwd")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.WantArgs(0, 0); err != nil {
		return err
	}
	var pw []byte
	var err error
	if f, ok := m.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		pw, err = m.promptPassword(int(f.Fd()))
	} else {
		pw, err = readPasswordLine(m.Stdin)
	}
	if err != nil {
		return err
	}
	if err := checkPassword(pw); err != nil {
		return err
	}
	h, err := bcrypt.GenerateFromPassword(pw, bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	fmt.Fprintln(m.Stdout, string(h))
	return nil
}

// promptPassword asks for the password twice on the terminal fd, without
// echo, and returns it if both answers match.
func (m *Main) promptPassword(fd int) ([]byte, error) {
	fmt.Fprint(m.Stderr, "Password: ")
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(m.Stderr)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	if err := checkPassword(pw); err != nil {
		return nil, err
	}
	fmt.Fprint(m.Stderr, "Again: ")
	again, err := term.ReadPassword(fd)
	fmt.Fprintln(m.Stderr)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	if !bytes.Equal(pw, again) {
		return nil, errors.New("the two passwords differ; nothing printed")
	}
	return pw, nil
}

// readPasswordLine reads the first line of r, without its line ending.
func readPasswordLine(r io.Reader) ([]byte, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return nil, fmt.Errorf("read password from stdin: %w", err)
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}

// checkPassword refuses a password bcrypt would weaken or that is too short.
func checkPassword(pw []byte) error {
	switch {
	case len(pw) == 0:
		return errors.New("empty password")
	case utf8.RuneCount(pw) < minPasswordLen:
		return fmt.Errorf("password shorter than %d characters; choose a longer one", minPasswordLen)
	case len(pw) > maxPasswordLen:
		return fmt.Errorf("password longer than %d bytes (bcrypt's limit)", maxPasswordLen)
	}
	return nil
}
