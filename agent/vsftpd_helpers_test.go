package agent

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// vsftpdPath is where .ci/run installs vsftpd (the Debian package);
// SYNCAGENT_VSFTPD names another binary (for example one unpacked with
// dpkg-deb -x when another FTP server package displaced it).
func vsftpdPath() string {
	if p := os.Getenv("SYNCAGENT_VSFTPD"); p != "" {
		return p
	}
	return "/usr/sbin/vsftpd"
}

// vsftpdServer is a real vsftpd on 127.0.0.1, run as a child process with a
// generated config, serving one freshly created local system user who is
// chrooted into Home (so the FTP path "/x" is Home/x on disk).
type vsftpdServer struct {
	Addr     string
	User     string
	Password string
	Home     string
}

// startVsftpd starts vsftpd for the test, or skips it (saying why) when
// vsftpd is not installed or the test does not run as root (vsftpd needs
// root to log a system user in). Everything is undone at cleanup: the
// process group is killed and the user removed.
func startVsftpd(t testing.TB) *vsftpdServer {
	t.Helper()
	bin := vsftpdPath()
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("vsftpd not installed at %s (.ci/run installs it): %v", bin, err)
	}
	if os.Geteuid() != 0 {
		t.Skip("vsftpd tests need root: they create a local system user for vsftpd to log in")
	}
	for _, tool := range []string{"useradd", "chpasswd", "userdel"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("vsftpd tests need %s: %v", tool, err)
		}
	}
	if err := os.MkdirAll("/var/run/vsftpd/empty", 0o755); err != nil {
		t.Skipf("vsftpd needs its secure_chroot_dir: %v", err)
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	v := &vsftpdServer{User: "sa" + hex.EncodeToString(suffix), Password: "pw-" + hex.EncodeToString(suffix)}

	// t.TempDir is private to root (0700 parents); the user needs a home it
	// can reach, so it lives directly under the system temp directory.
	base, err := os.MkdirTemp("", "vsftpd-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	v.Home = filepath.Join(base, "home")
	if err := os.Mkdir(v.Home, 0o755); err != nil {
		t.Fatal(err)
	}
	// /bin/sh: the Debian PAM stack for vsftpd requires a shell from /etc/shells.
	runRetry(t, "useradd", "-M", "-d", v.Home, "-s", "/bin/sh", v.User)
	t.Cleanup(func() { exec.Command("userdel", v.User).Run() })
	chp := exec.Command("chpasswd")
	chp.Stdin = strings.NewReader(v.User + ":" + v.Password + "\n")
	if out, err := chp.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v: %s", err, out)
	}
	runRetry(t, "chown", v.User+":", v.Home)

	port := freePort(t)
	v.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conf := filepath.Join(base, "vsftpd.conf")
	logFile := filepath.Join(base, "vsftpd.log")
	if err := os.WriteFile(conf, []byte(vsftpdConfig(port, logFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so its session children die with it
	out, err := os.Create(filepath.Join(base, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start vsftpd: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		if t.Failed() {
			for _, f := range []string{"stderr", "vsftpd.log"} {
				if b, err := os.ReadFile(filepath.Join(base, f)); err == nil && len(b) > 0 {
					t.Logf("vsftpd %s:\n%s", f, b)
				}
			}
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", v.Addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			b, _ := os.ReadFile(filepath.Join(base, "stderr"))
			t.Fatalf("vsftpd exited at start: %s", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vsftpd did not listen on %s within 15s: %v", v.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return v
}

// vsftpdConfig is a minimal standalone config: local users only, chrooted
// into their writable homes, passive mode on loopback, no sandboxes that a
// container may lack.
func vsftpdConfig(port int, logFile string) string {
	return fmt.Sprintf(`listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=%d
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
chroot_local_user=YES
allow_writeable_chroot=YES
secure_chroot_dir=/var/run/vsftpd/empty
pam_service_name=vsftpd
check_shell=NO
userlist_enable=NO
force_dot_files=YES
pasv_enable=YES
pasv_address=127.0.0.1
port_enable=NO
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
use_localtime=NO
xferlog_enable=YES
vsftpd_log_file=%s
dual_log_enable=NO
max_clients=64
max_per_ip=32
idle_session_timeout=120
`, port, logFile)
}

// serverConfig is the agent's view of the vsftpd server.
func (v *vsftpdServer) serverConfig() ServerConfig {
	return ServerConfig{Address: v.Addr, User: v.User, Password: v.Password, TLS: TLSNone, Connections: 2}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runRetry runs a user-management command, retrying while another process
// holds the passwd lock.
func runRetry(t testing.TB, name string, args ...string) {
	t.Helper()
	var out []byte
	var err error
	for range 20 {
		out, err = exec.Command(name, args...).CombinedOutput()
		if err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
}
