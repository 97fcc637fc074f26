// Package ftpchildtest runs a peer FTP server (vsftpd, pure-ftpd, ProFTPD)
// for one test: it makes a throwaway local system user with a home of its
// own, starts the server on 127.0.0.1, and undoes both when the test ends.
// A server or user that cannot be had here ends the test through
// testenv.Missing. It is the test-side counterpart of packages ftpchild
// and sysuser, shared by vsftpdtest, pureftpdtest and proftpdtest. Only
// tests import it.
package ftpchildtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
	"github.com/syncagent/syncagent/internal/ftpchild"
	"github.com/syncagent/syncagent/internal/sysuser"
	"github.com/syncagent/syncagent/internal/testenv"
)

// Server is a running peer and its one user, who sees Home as "/" when
// the server chroots (the FTP path "/x" is Home/x on disk). Its fields are
// read-only.
type Server struct {
	Addr     string
	User     string
	Password string
	Home     string
	// Base is Home's parent, a directory of the test's own holding the
	// server's configuration, output and logs.
	Base string
}

// StartFunc starts a server whose files live in base; an error wrapping
// the unavailable error given to Start means it cannot run here.
type StartFunc func(ctx context.Context, base string) (*ftpchild.Server, error)

// Start makes a user with a fresh name and password and an empty home,
// then starts the server called name with start (given 15 seconds to
// greet). It ends t through testenv.Missing when t is not root, the user
// tools are missing, or start's error wraps unavailable. At cleanup the
// server is stopped, the user removed and Base deleted; if t failed, the
// server's output and the files logs (relative to Base) are logged first.
func Start(t testing.TB, name string, unavailable error, start StartFunc, logs ...string) *Server {
	t.Helper()
	suffix := make([]byte, 4)
	rand.Read(suffix)
	s := &Server{User: "sa" + hex.EncodeToString(suffix), Password: "pw-" + hex.EncodeToString(suffix)}
	// t.TempDir is private to root (0700 parents); the user needs a home it
	// can reach, so it lives directly under the system temp directory.
	base, err := os.MkdirTemp("", name+"-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	s.Base, s.Home = base, filepath.Join(base, "home")
	if err := os.Mkdir(s.Home, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := sysuser.Add(s.User, s.Password, s.Home); errors.Is(err, sysuser.ErrUnavailable) {
		testenv.Missing(t, "%s: %v", name, err)
	} else if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sysuser.Remove(s.User) })

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv, err := start(ctx, base)
	if errors.Is(err, unavailable) {
		testenv.Missing(t, "%v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	s.Addr = srv.Addr
	t.Cleanup(func() {
		srv.Stop()
		if !t.Failed() {
			return
		}
		t.Logf("%s output:\n%s", name, srv.Output())
		for _, l := range logs {
			if b, err := os.ReadFile(filepath.Join(base, l)); err == nil && len(b) > 0 {
				t.Logf("%s %s:\n%s", name, l, b)
			}
		}
	})
	return s
}

// CheckServes logs s's user in with a real client, stores a file, finds
// it in the user's home on disk, and finds it listed; it fails t if any
// of that does not work.
func CheckServes(t testing.TB, s *Server) {
	t.Helper()
	c, err := ftp.Dial(s.Addr, ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login(s.User, s.Password); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor("hello.txt", bytes.NewReader([]byte("hello"))); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(s.Home, "hello.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("stored file on disk: %q, %v", b, err)
	}
	ents, err := c.List("/")
	if err != nil || !slices.ContainsFunc(ents, func(e *ftp.Entry) bool { return e.Name == "hello.txt" }) {
		t.Fatalf("listing of /: %v", err)
	}
}
