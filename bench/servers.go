//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/syncagent/syncagent/internal/pureftpd"
	"github.com/syncagent/syncagent/internal/sysuser"
	"github.com/syncagent/syncagent/internal/vsftpd"
	"golang.org/x/crypto/bcrypt"
)

// benchUser and benchPass are the one account every server under test has:
// a syncserver user, and a throwaway local system user for the servers that
// authenticate against the system (vsftpd, pure-ftpd).
const (
	benchUser = "syncbench"
	benchPass = "syncbench-Pass-7"
)

// target is an FTP server under test, running as a child process. home is
// the local directory the user sees as "/" after login.
type target struct {
	name string
	addr string
	user string
	pass string
	home string
	// clear are directories emptied with home on reset (the server's own
	// versions of replaced files, which would grow between runs).
	clear []string
	// trash is where reset moves old content (see discard); "" deletes it.
	trash string
	cmd   *exec.Cmd
	errs  *bytes.Buffer
}

// port reports the control port as a string.
func (t *target) port() string {
	_, p, _ := net.SplitHostPort(t.addr)
	return p
}

// reset empties the user's home so a run starts from a fresh server,
// deleting what was there.
func (t *target) reset() error { return t.empty(false) }

// resetAside is reset for runs that create thousands of files: the old
// ones are moved into the trash (see discard) rather than deleted.
func (t *target) resetAside() error { return t.empty(true) }

func (t *target) empty(aside bool) error {
	ents, err := os.ReadDir(t.home)
	if err != nil {
		return fmt.Errorf("reset %s: %w", t.name, err)
	}
	drop := os.RemoveAll
	if aside {
		drop = t.discard
	}
	for _, e := range ents {
		if err := drop(filepath.Join(t.home, e.Name())); err != nil {
			return fmt.Errorf("reset %s: %w", t.name, err)
		}
	}
	// The directories themselves stay: the server holds them open.
	for _, dir := range t.clear {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			drop(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// discard moves p into the trash, which is deleted when the harness ends,
// rather than deleting it now. On ext4 without a journal (as on the
// machine these figures come from), the inode allocator skips, one by one
// and under the directory's lock, every inode freed in the last minutes,
// so deleting thousands of files before a run slows that run's creates,
// whichever program makes them. Moving them aside keeps every run, and
// every tool, on the same footing. (Only for small files: a moved file's
// dirty pages still have to reach the disk, where a deleted one's are
// dropped, so moving gigabytes aside would load the runs that follow.)
// Without a trash, or across file systems, p is deleted.
func (t *target) discard(p string) error {
	if t.trash != "" {
		if d, err := os.MkdirTemp(t.trash, "old-"); err == nil {
			if os.Rename(p, filepath.Join(d, filepath.Base(p))) == nil {
				return nil
			}
			os.Remove(d)
		}
	}
	return os.RemoveAll(p)
}

// stop ends the server process and everything it forked.
func (t *target) stop() {
	if t.cmd == nil || t.cmd.Process == nil {
		return
	}
	pids := treePids(t.cmd.Process.Pid)
	t.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.cmd.Process.Kill()
		<-done
	}
	for _, pid := range pids[1:] {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
}

// memory returns the server's proportional set size summed over its
// processes, and the main process's RSS, both in KiB.
func (t *target) memory() (pss, rss int64, procs int) {
	pids := treePids(t.cmd.Process.Pid)
	for _, pid := range pids {
		pss += pssKiB(pid)
	}
	return pss, statusKiB(t.cmd.Process.Pid, "VmRSS"), len(pids)
}

// freePort picks a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitGreeting waits until addr answers with a 220 greeting.
func waitGreeting(ctx context.Context, t *target) error {
	var last error
	for range 200 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c, err := net.DialTimeout("tcp", t.addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			g := make([]byte, 3)
			_, err = io.ReadFull(c, g)
			c.Close()
			if err == nil && string(g) == "220" {
				return nil
			}
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not greet on %s: %v: %s", t.name, t.addr, last, tail(t.errs.String(), 400))
}

func startTarget(ctx context.Context, t *target, bin string, args ...string) error {
	t.errs = new(bytes.Buffer)
	t.cmd = exec.Command(bin, args...)
	t.cmd.Stdout, t.cmd.Stderr = t.errs, t.errs
	if err := t.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", t.name, err)
	}
	if err := waitGreeting(ctx, t); err != nil {
		t.stop()
		return err
	}
	return nil
}

// startSyncserver runs the syncserver binary with room for hundreds of
// sessions from 127.0.0.1 and otherwise default settings (versions on),
// plus the top-level config lines extra; name labels it in the report.
func startSyncserver(ctx context.Context, bin, work, name, extra string) (*target, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(benchPass), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	root := filepath.Join(work, "syncserver-root")
	home := filepath.Join(root, benchUser)
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`listen: "127.0.0.1:%d"
root: %q
passive_ports: ""
users:
  - name: %q
    password_hash: %q
    home: %q
limits:
  max_connections: 1000
  max_per_ip: 1000
log:
  level: "warn"
%s`, port, root, benchUser, string(hash), benchUser, extra)
	path := filepath.Join(work, "server.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	t := &target{name: name, addr: fmt.Sprintf("127.0.0.1:%d", port), user: benchUser, pass: benchPass,
		home: home, clear: []string{filepath.Join(root, ".syncserver", "versions")}}
	if err := startTarget(ctx, t, bin, "run", "-config", path); err != nil {
		return nil, err
	}
	return t, nil
}

// errNoPeer marks a peer server that is not installed or cannot run here.
var errNoPeer = errors.New("peer unavailable")

// systemPeer prepares a peer server that logs benchUser in as a local
// system user: it makes sure the user exists with benchPass, picks a free
// port and returns the target to start there.
func systemPeer(name string) (*target, int, error) {
	home, err := sysuser.Add(benchUser, benchPass, "")
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", errNoPeer, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	return &target{name: name, addr: fmt.Sprintf("127.0.0.1:%d", port), user: benchUser, pass: benchPass, home: home}, port, nil
}

// startVsftpd runs vsftpd in the foreground on 127.0.0.1 with the user
// chrooted in its home, no connection limits, and logging off.
func startVsftpd(ctx context.Context, work string) (*target, error) {
	bin, err := vsftpd.Binary()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoPeer, err)
	}
	t, port, err := systemPeer("vsftpd")
	if err != nil {
		return nil, err
	}
	pasv := 40000 + port%10000
	path := filepath.Join(work, "vsftpd.conf")
	conf := vsftpd.Config{Port: port, PassiveMin: pasv, PassiveMax: pasv + 999, Chroot: true}
	if err := conf.WriteFile(path); err != nil {
		return nil, err
	}
	if err := startTarget(ctx, t, bin, path); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoPeer, err)
	}
	return t, nil
}

// startPureFTPd runs pure-ftpd in the foreground on 127.0.0.1 with system
// logins, everyone chrooted, no anonymous access and room for 1000 clients.
func startPureFTPd(ctx context.Context, work string) (*target, error) {
	bin, err := pureftpd.Binary()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoPeer, err)
	}
	t, port, err := systemPeer("pure-ftpd")
	if err != nil {
		return nil, err
	}
	pasv := 30000 + port%8000
	conf := pureftpd.Config{Port: port, PassiveMin: pasv, PassiveMax: pasv + 999, Chroot: true, MaxClients: 1000, MaxPerIP: 1000}
	if err := startTarget(ctx, t, bin, conf.Args(work)...); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoPeer, err)
	}
	return t, nil
}
