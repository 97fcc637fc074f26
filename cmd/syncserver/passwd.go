package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// passwd reads one password line on stdin and prints its bcrypt hash, for
// the password_hash key of a user.
func (m *Main) passwd(args []string) error {
	if len(args) > 0 {
		return errors.New("passwd takes no arguments; it reads the password on stdin")
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return errors.New("empty password")
	}
	if len(pw) > 72 {
		return errors.New("password longer than 72 bytes (bcrypt's limit)")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	fmt.Fprintln(m.Stdout, string(h))
	return nil
}
