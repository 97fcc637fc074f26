package server

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSoak runs many clients at once doing random valid and invalid
// commands, aborted transfers and dropped connections, then checks that
// the server is back where it started: no goroutine, file descriptor or
// staged upload left over. Seeded, so a failure replays.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	s := startServer(t, testConfig(t))
	time.Sleep(50 * time.Millisecond)
	g0, fd0 := runtime.NumGoroutine(), openFDs()

	const clients, actions = 24, 40
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			soakClient(t, s.Addr, rand.New(rand.NewPCG(uint64(i), 77)), actions)
		}()
	}
	wg.Wait()

	deadline := time.Now().Add(15 * time.Second)
	var g, fd int
	for {
		g, fd = runtime.NumGoroutine(), openFDs()
		if g <= g0+2 && fd <= fd0+2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if g > g0+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before, %d after\n%s", g0, g, buf[:runtime.Stack(buf, true)])
	}
	if fd > fd0+2 {
		t.Errorf("open file descriptors: %d before, %d after", fd0, fd)
	}
	staged, _ := os.ReadDir(filepath.Join(s.Root, ".syncserver", "tmp"))
	for _, e := range staged {
		t.Errorf("staged upload left behind: %s", e.Name())
	}
	filepath.WalkDir(s.Root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".syncserver-") {
			t.Errorf("temporary visible in a home: %s", p)
		}
		return nil
	})
}

// openFDs counts this process's open descriptors (-1 where /proc is absent,
// which makes the check vacuous there). Pipes are not counted: the only
// ones are the runtime's splice pipes (io.Copy between a socket and a file
// goes through a pooled pipe pair), which it keeps in a sync.Pool and
// closes when the garbage collector drops them, not when a session ends.
func openFDs() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range es {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "pipe:") {
			continue
		}
		n++
	}
	return n
}

var soakCommands = []string{
	"NOOP", "PWD", "SYST", "FEAT", "TYPE I", "TYPE A", "TYPE X", "MODE S", "MODE Z", "STRU F",
	"CWD sub", "CWD /", "CWD ../../..", "CDUP", "MKD sub", "MKD sub/deeper", "RMD sub/deeper",
	"SIZE f0", "MDTM f1", "MLST f2", "HASH f0", "OPTS HASH SHA-1", "OPTS UTF8 ON", "DELE f3",
	"RNFR f1", "RNTO f4", "RNFR missing", "REST 5", "REST -1", "ALLO 10", "STAT", "HELP",
	"SITE CHMOD 777 f0", "MFMT 20240101000000 f0", "XYZZY", "", "USER other", "PASS x",
	"RETR \x00", "CWD /.versions", "PORT 127,0,0,1,0,21", "EPRT |1|10.0.0.1|2000|",
	"STOR", "DELE ../../etc/passwd", "MKD " + strings.Repeat("x", 300), "ABOR",
}

// soakClient logs in and does n random things, reconnecting whenever its
// connection is gone.
func soakClient(t *testing.T, addr string, rng *rand.Rand, n int) {
	var c *textproto.Conn
	var raw net.Conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		if c == nil {
			var err error
			raw, err = net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			raw.SetDeadline(time.Now().Add(30 * time.Second))
			c = textproto.NewConn(raw)
			if _, _, err := c.ReadResponse(220); err != nil || soakCmd(c, "USER alice") != nil || soakCmd(c, "PASS "+testPassword) != nil {
				c.Close()
				c = nil
				continue
			}
		}
		var err error
		switch k := rng.IntN(10); {
		case k < 5:
			err = soakCmd(c, soakCommands[rng.IntN(len(soakCommands))])
		case k < 8:
			err = soakTransfer(c, rng, fmt.Sprintf("f%d", rng.IntN(5)))
		case k == 8: // drop the connection, perhaps in the middle of a line
			if rng.IntN(2) == 0 {
				raw.Write([]byte("STOR half"))
			}
			raw.(*net.TCPConn).SetLinger(0)
			err = net.ErrClosed
		default:
			err = soakCmd(c, "QUIT")
			if err == nil {
				err = net.ErrClosed
			}
		}
		if err != nil {
			c.Close()
			c = nil
		}
	}
}

// soakCmd sends one command and reads its reply, whatever the code; an
// error means the connection is unusable.
func soakCmd(c *textproto.Conn, cmd string) error {
	if err := c.PrintfLine("%s", cmd); err != nil {
		return err
	}
	_, _, err := c.ReadResponse(0)
	if _, ok := err.(*textproto.Error); ok {
		return nil
	}
	return err
}

// soakTransfer stores or retrieves name over EPSV and, at random, aborts
// the data connection part way (a reset) or never opens it.
func soakTransfer(c *textproto.Conn, rng *rand.Rand, name string) error {
	if err := c.PrintfLine("EPSV"); err != nil {
		return err
	}
	code, msg, err := c.ReadResponse(0)
	if err != nil {
		if _, ok := err.(*textproto.Error); ok {
			return nil
		}
		return err
	}
	i, j := strings.Index(msg, "|||"), strings.LastIndex(msg, "|")
	port, perr := strconv.Atoi(msg[min(i+3, len(msg)):max(j, 0)])
	if code != 229 || i < 0 || perr != nil {
		return nil
	}
	store := rng.IntN(2) == 0
	verb := "RETR"
	if store {
		verb = "STOR"
	}
	if rng.IntN(6) == 0 { // never connect: the server must give up on its own
		return soakCmd(c, "NOOP")
	}
	dc, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		return nil
	}
	defer dc.Close()
	dc.SetDeadline(time.Now().Add(20 * time.Second))
	if err := c.PrintfLine("%s %s", verb, name); err != nil {
		return err
	}
	if _, _, err := c.ReadResponse(1); err != nil {
		if _, ok := err.(*textproto.Error); ok {
			return nil
		}
		return err
	}
	abort := rng.IntN(3) == 0
	if store {
		b := make([]byte, 1+rng.IntN(200<<10))
		for k := range b {
			b[k] = byte(rng.Uint32())
		}
		if abort {
			b = b[:len(b)/2]
		}
		dc.Write(b)
	} else {
		buf := make([]byte, 32<<10)
		for !abort {
			if _, err := dc.Read(buf); err != nil {
				break
			}
		}
	}
	if abort {
		dc.(*net.TCPConn).SetLinger(0)
	}
	dc.Close()
	_, _, err = c.ReadResponse(0)
	if _, ok := err.(*textproto.Error); ok {
		return nil
	}
	return err
}
