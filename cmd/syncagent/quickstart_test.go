package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
	"github.com/syncagent/syncagent/agent/status"
)

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond for at most 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

var urlRe = regexp.MustCompile(`ftp://quickstart:([a-z0-9]+)@(127\.0\.0\.1:\d+)/`)

// TestQuickstartSyncsBothWays runs the README's first command in process:
// a file dropped in the folder reaches the embedded server, and a file
// uploaded by a plain FTP client to the printed URL reaches the folder.
func TestQuickstartSyncsBothWays(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "qs")
	var out syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"quickstart", "-listen", "127.0.0.1:0", dir}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("quickstart: %v", err)
		}
	}()

	var match []string
	waitFor(t, "the ftp:// URL", func() bool { match = urlRe.FindStringSubmatch(out.String()); return match != nil })
	password, addr := match[1], match[2]
	stored, err := os.ReadFile(filepath.Join(base, ".quickstart-server", "password"))
	if err != nil || strings.TrimSpace(string(stored)) != password {
		t.Fatalf("password file %q (%v) does not hold the printed password %q", stored, err, password)
	}

	os.WriteFile(filepath.Join(dir, "local.txt"), []byte("from the folder"), 0o644)
	onServer := filepath.Join(base, ".quickstart-server", "root", "quickstart", "local.txt")
	waitFor(t, "local.txt on the server", func() bool {
		b, err := os.ReadFile(onServer)
		return err == nil && string(b) == "from the folder"
	})

	c, err := ftp.Dial(addr, ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("quickstart", password); err != nil {
		t.Fatalf("login with the printed credentials: %v", err)
	}
	if err := c.Stor("dropped.txt", strings.NewReader("from an ftp client")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dropped.txt in the folder", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "dropped.txt"))
		return err == nil && string(b) == "from an ftp client"
	})
	// The agent logs a download once its state is recorded, a moment
	// after the file is in the folder.
	waitFor(t, "a line per synced change", func() bool {
		return strings.Contains(out.String(), "uploaded") && strings.Contains(out.String(), "downloaded")
	})
}

var statusURLRe = regexp.MustCompile(`status:\s+(http://127\.0\.0\.1:\d+/)`)

// TestQuickstartTakenPortsAndStatusPage: with its two ports taken,
// quickstart says so, picks free ones, and serves its status page at the
// URL it prints.
func TestQuickstartTakenPortsAndStatusPage(t *testing.T) {
	var taken [2]string
	for i := range taken {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		taken[i] = ln.Addr().String()
	}
	var out syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"quickstart", "-listen", taken[0], "-status", taken[1], filepath.Join(t.TempDir(), "qs")})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("quickstart: %v", err)
		}
	}()
	var match []string
	waitFor(t, "the status URL", func() bool { match = statusURLRe.FindStringSubmatch(out.String()); return match != nil })
	for _, want := range []string{"server: " + taken[0] + " is taken", "status page: " + taken[1] + " is taken"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	waitFor(t, "the status page", func() bool {
		resp, err := http.Get(match[1] + "status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var rep status.Report
		return json.NewDecoder(resp.Body).Decode(&rep) == nil && len(rep.Folders) == 1 && rep.Folders[0].Name == "quickstart"
	})
}
