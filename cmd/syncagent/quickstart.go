package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/syncagent/syncagent/agent"
	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/logging"
	"github.com/syncagent/syncagent/server"
	"golang.org/x/crypto/bcrypt"
)

const quickstartUser = "quickstart"

// quickstart runs an embedded syncserver on 127.0.0.1 and keeps DIR in
// two-way sync with it, storing the server's files in .quickstart-server
// beside DIR.
func (m *Main) quickstart(ctx context.Context, args []string) error {
	fs := m.flags("quickstart")
	listen := fs.String("listen", "127.0.0.1:2121", "`ADDR` of the server (a free port is picked if this one is taken)")
	statusAt := fs.String("status", "127.0.0.1:7777", "`ADDR` of the status page (a free port is picked if this one is taken; \"\" for none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fs.WantArgs(0, 1); err != nil {
		return err
	}
	dir := "quickstart"
	if fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	serverDir := filepath.Join(filepath.Dir(dir), ".quickstart-server")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(serverDir, 0o700); err != nil {
		return err
	}
	password, err := quickstartPassword(filepath.Join(serverDir, "password"))
	if err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	ln, err := m.listenOrAny("server", *listen)
	if err != nil {
		return err
	}
	logger := logging.New(m.Stdout, "info", "text")

	scfg := server.DefaultConfig()
	scfg.Listen = ln.Addr().String()
	scfg.Root = filepath.Join(serverDir, "root")
	scfg.PassivePorts = ""
	scfg.Users = []server.UserConfig{{Name: quickstartUser, PasswordHash: string(hash), Home: quickstartUser}}
	// The server speaks only of problems; the agent prints a line per change.
	srv, err := server.New(scfg, logging.New(m.Stdout, "warn", "text").With("component", "syncserver"))
	if err != nil {
		ln.Close()
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-serveErr
	}()

	acfg := agent.DefaultConfig()
	acfg.State = filepath.Join(serverDir, "agent-state.db")
	acfg.StatusListen = ""
	var statusLn net.Listener
	if *statusAt != "" {
		if statusLn, err = m.listenOrAny("status page", *statusAt); err != nil {
			return err
		}
		defer statusLn.Close()
		acfg.StatusListen = statusLn.Addr().String()
	}
	acfg.Servers = map[string]agent.ServerConfig{quickstartUser: {
		Address: ln.Addr().String(), User: quickstartUser, Password: password, TLS: agent.TLSNone,
		Connections: agent.DefaultConnections,
	}}
	acfg.Folders = []agent.FolderConfig{{
		Name: quickstartUser, Path: dir, Server: quickstartUser, Remote: "/", Mode: agent.ModeTwoWay,
		Debounce: config.Duration(agent.DefaultDebounce), Poll: config.Duration(2 * time.Second),
		Rescan: config.Duration(agent.DefaultRescan), MaxDelete: agent.DefaultMaxDelete,
	}}
	a, err := agent.New(acfg, logger.With("component", "syncagent"))
	if err != nil {
		return err
	}
	defer a.Close()
	a.StatusListener = statusLn

	fmt.Fprintf(m.Stdout, "syncserver: ftp://%s:%s@%s/   (files stored in %s)\n", quickstartUser, password, ln.Addr(), scfg.Root)
	fmt.Fprintf(m.Stdout, "syncagent:  %s  <->  that server, two-way. Drop files in either; Ctrl-C stops both.\n", dir)
	if acfg.StatusListen != "" {
		fmt.Fprintf(m.Stdout, "status:     http://%s/\n", acfg.StatusListen)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return a.Run(ctx)
}

// quickstartPassword returns the password kept in path, creating a random
// one the first time, so the printed URL stays the same across runs.
func quickstartPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 12 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var raw [10]byte
	rand.Read(raw[:])
	pw := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:]))
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", err
	}
	return pw, nil
}

// listenOrAny listens on addr, or on a free port of 127.0.0.1 when addr
// is taken, saying so.
func (m *Main) listenOrAny(what, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	ln, err2 := net.Listen("tcp", "127.0.0.1:0")
	if err2 != nil {
		return nil, fmt.Errorf("%s: %w", what, err2)
	}
	fmt.Fprintf(m.Stdout, "%s: %s is taken (%v); using %s instead\n", what, addr, unwrapOp(err), ln.Addr())
	return ln, nil
}

// unwrapOp returns the innermost cause of a net error ("address already in use").
func unwrapOp(err error) error {
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err
		}
		err = inner
	}
}
