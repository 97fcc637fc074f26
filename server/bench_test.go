package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	mathrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
	"github.com/syncagent/syncagent/internal/sysuser"
	"github.com/syncagent/syncagent/internal/vsftpd"
	"golang.org/x/crypto/bcrypt"
)

// benchSize is the size of the single-stream transfer benchmarks.
const benchSize = 64 << 20

var benchData = sync.OnceValue(func() []byte {
	b := make([]byte, benchSize)
	rand.Read(b)
	return b
})

// benchServer starts a server with room for hundreds of sessions from
// 127.0.0.1, users with a production-cost bcrypt hash, and no versions (the
// benchmarks measure the protocol and the data path).
func benchServer(b *testing.B) *testServer {
	b.Helper()
	cfg := testConfig(b)
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	for i := range cfg.Users {
		cfg.Users[i].PasswordHash = string(hash)
	}
	cfg.Limits.MaxConnections = 1000
	cfg.Limits.MaxPerIP = 1000
	cfg.Versions.Keep = 0
	return startServer(b, cfg, func(s *Server) { s.DataTimeout = time.Minute })
}

func benchDial(b *testing.B, addr, user, pass string) *ftp.ServerConn {
	b.Helper()
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(time.Minute))
	if err != nil {
		b.Fatalf("dial %s: %v", addr, err)
	}
	if err := c.Login(user, pass); err != nil {
		b.Fatalf("login: %v", err)
	}
	b.Cleanup(func() { c.Quit() })
	return c
}

// runSTOR uploads benchSize bytes per iteration over one connection.
func runSTOR(b *testing.B, addr, user, pass string) {
	c := benchDial(b, addr, user, pass)
	data := benchData()
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		if err := c.Stor("bench.bin", bytes.NewReader(data)); err != nil {
			b.Fatalf("stor: %v", err)
		}
	}
}

// runRETR downloads a benchSize file per iteration over one connection.
func runRETR(b *testing.B, addr, user, pass string) {
	c := benchDial(b, addr, user, pass)
	if err := c.Stor("bench.bin", bytes.NewReader(benchData())); err != nil {
		b.Fatalf("stor: %v", err)
	}
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		r, err := c.Retr("bench.bin")
		if err != nil {
			b.Fatalf("retr: %v", err)
		}
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if err != nil || n != benchSize {
			b.Fatalf("retr: %d bytes, %v", n, err)
		}
	}
}

func BenchmarkSTOR(b *testing.B) {
	ts := benchServer(b)
	runSTOR(b, ts.Addr, "alice", testPassword)
}

func BenchmarkRETR(b *testing.B) {
	ts := benchServer(b)
	runRETR(b, ts.Addr, "alice", testPassword)
}

// waitSessions waits (bounded) until the server has at most n sessions.
func waitSessions(b *testing.B, s *Server, n int) {
	for range 1000 {
		s.mu.Lock()
		k := len(s.sessions)
		s.mu.Unlock()
		if k <= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("sessions did not drain to %d", n)
}

// BenchmarkLogin300 connects and logs in 300 clients at once.
func BenchmarkLogin300(b *testing.B) {
	ts := benchServer(b)
	const n = 300
	var total time.Duration
	for range b.N {
		conns := make([]*ftp.ServerConn, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := time.Now()
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := ftp.Dial(ts.Addr, ftp.DialWithTimeout(time.Minute))
				if err == nil {
					conns[i] = c
					err = c.Login("alice", testPassword)
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		total += time.Since(start)
		b.StopTimer()
		for i, c := range conns {
			if errs[i] != nil {
				b.Fatalf("client %d: %v", i, errs[i])
			}
			c.Quit()
		}
		waitSessions(b, ts.Server, 0)
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/300-logins")
}

// BenchmarkIdleSessions measures the memory the server holds per idle
// logged-in session. The figure includes the client side's sockets (a few
// hundred bytes each), which live in the same process.
func BenchmarkIdleSessions(b *testing.B) {
	ts := benchServer(b)
	const n = 300
	login := []byte("USER alice\r\nPASS " + testPassword + "\r\n")
	var perSession float64
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		conns := make([]net.Conn, 0, n)
		buf := make([]byte, 512)
		for range n {
			c, err := net.DialTimeout("tcp", ts.Addr, 10*time.Second)
			if err != nil {
				b.Fatalf("dial: %v", err)
			}
			conns = append(conns, c)
			c.SetDeadline(time.Now().Add(time.Minute))
			c.Write(login)
			var got []byte
			for !bytes.Contains(got, []byte("\n230 ")) {
				k, err := c.Read(buf)
				if err != nil {
					b.Fatalf("login: %v (%q)", err, got)
				}
				got = append(got, buf[:k]...)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		used := int64(after.HeapAlloc+after.StackInuse) - int64(before.HeapAlloc+before.StackInuse)
		perSession += float64(used) / n / 1024
		b.StopTimer()
		for _, c := range conns {
			c.Close()
		}
		waitSessions(b, ts.Server, 0)
		b.StartTimer()
	}
	b.ReportMetric(perSession/float64(b.N), "KiB/session")
}

// vsftpd runs the same client loops against vsftpd for comparison. It needs
// root (vsftpd, and a throwaway local user ftpbench) and vsftpd installed.
const vsftpdPassword = "ftpbench-Pass-1"

// startVsftpd starts vsftpd with no connection limits and the user
// ftpbench, unconfined in their home, or skips the benchmark.
func startVsftpd(b *testing.B) string {
	b.Helper()
	bin, err := vsftpd.Binary()
	if err != nil {
		b.Skip(err)
	}
	home, err := sysuser.Add("ftpbench", vsftpdPassword, "")
	if err != nil {
		b.Skip(err)
	}
	pasv := 42000 + mathrand.IntN(20000) // apart from other vsftpds' ranges
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv, err := vsftpd.Start(ctx, bin, b.TempDir(), vsftpd.Config{PassiveMin: pasv, PassiveMax: pasv + 999})
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() {
		srv.Stop()
		os.Remove(filepath.Join(home, "bench.bin"))
	})
	return srv.Addr
}

func BenchmarkVsftpdSTOR(b *testing.B) {
	addr := startVsftpd(b)
	runSTOR(b, addr, "ftpbench", vsftpdPassword)
}

func BenchmarkVsftpdRETR(b *testing.B) {
	addr := startVsftpd(b)
	runRETR(b, addr, "ftpbench", vsftpdPassword)
}
