package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/syncagent/syncagent/internal/testenv"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// expectFacts returns the facts of an MLST reply, as SITE EXPECT takes them.
func expectFacts(t *testing.T, c *ctrl, p string) string {
	t.Helper()
	msg := c.must(250, "MLST %s", p)
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimLeft(l, " "); strings.Contains(l, "=") {
			facts, _, _ := strings.Cut(l, " ")
			return facts
		}
	}
	t.Fatalf("no facts in %q", msg)
	return ""
}

func TestExpectGuardsDeleteRenameAndRmd(t *testing.T) {
	ts := startServer(t, testConfig(t))
	home := filepath.Join(ts.Root, "alice")
	seedFile(t, home, "a.txt", []byte("synced"))
	seedFile(t, home, "b.txt", []byte("other"))
	os.Mkdir(filepath.Join(home, "d"), 0o755)
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	if msg := c.must(211, "FEAT"); !strings.Contains(msg, " SITE EXPECT\n") {
		t.Fatalf("FEAT does not offer SITE EXPECT:\n%s", msg)
	}
	for _, bad := range []string{"", "size=1;", "size=x; /a.txt", "color=red; /a.txt", "sha256=abcd; /a.txt", ";; /a.txt"} {
		if code, msg := c.cmd("SITE EXPECT %s", bad); code != 501 {
			t.Errorf("SITE EXPECT %q: %d %q, want 501", bad, code, msg)
		}
	}
	synced := expectFacts(t, c, "/a.txt")

	// The file changed since its facts were read: the delete is refused.
	seedFile(t, home, "a.txt", []byte("edited"))
	c.must(200, "SITE EXPECT sha256=%s; /a.txt", sha256Hex([]byte("synced")))
	c.must(450, "DELE /a.txt")
	// The expectation went with that command: an unconditional DELE of
	// another file is not held to it, nor is a later one of a.txt.
	c.must(200, "SITE EXPECT %s /a.txt", synced)
	c.must(250, "DELE /b.txt")
	c.must(250, "DELE /a.txt")

	// RNTO onto a target expected absent, which someone created.
	seedFile(t, home, "from.txt", []byte("mine"))
	seedFile(t, home, "to.txt", []byte("theirs"))
	c.must(200, "SITE EXPECT absent /to.txt")
	c.must(350, "RNFR /from.txt")
	c.must(450, "RNTO /to.txt")
	if got, _ := os.ReadFile(filepath.Join(home, "to.txt")); string(got) != "theirs" {
		t.Fatalf("to.txt = %q after a refused RNTO", got)
	}
	// A source that is not what was seen: refused; as seen: done.
	c.must(200, "SITE EXPECT size=99;type=file; /from.txt")
	c.must(350, "RNFR /from.txt")
	c.must(450, "RNTO /new.txt")
	c.must(200, "SITE EXPECT %s /from.txt", expectFacts(t, c, "/from.txt"))
	c.must(200, "SITE EXPECT absent /new.txt")
	c.must(350, "RNFR /from.txt")
	c.must(250, "RNTO /new.txt")
	// A file expected but gone.
	c.must(200, "SITE EXPECT type=file;size=4; /from.txt")
	c.must(450, "DELE /from.txt")

	// RMD of what is no longer a directory of that modify time.
	c.must(200, "SITE EXPECT type=dir;modify=20000101000000; /d")
	c.must(450, "RMD /d")
	c.must(200, "SITE EXPECT %s /d", expectFacts(t, c, "/d"))
	c.must(250, "RMD /d")
}

// TestExpectRaceOneWriterWins has two clients replace one file at once,
// round after round, each expecting the content both saw: exactly one
// may win each round, and the file holds the winner's content. The
// file each round starts from is written behind the server's back, so
// the check reads it whole (a few milliseconds): without the check and
// the rename being one step, both writers pass the check and both
// renames succeed.
func TestExpectRaceOneWriterWins(t *testing.T) {
	ts := startServer(t, testConfig(t))
	home := filepath.Join(ts.Root, "alice")
	const rounds = 12
	writers := [2]*ctrl{}
	for i := range writers {
		writers[i] = dialCtrl(t, ts.Addr, "")
		writers[i].login("alice")
	}
	big := make([]byte, 8<<20)
	for r := range rounds {
		rand.Read(big)
		seedFile(t, home, "f.bin", big)
		sum := sha256Hex(big)
		for i := range writers {
			seedFile(t, home, fmt.Sprintf("t%d", i), []byte(fmt.Sprintf("round %d writer %d", r, i)))
		}
		var wg sync.WaitGroup
		codes := [2]int{}
		start := make(chan struct{})
		for i, c := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				codes[i] = rawCmd(c, "SITE EXPECT sha256=%s; /f.bin", sum)
				if codes[i] == 200 {
					codes[i] = rawCmd(c, "RNFR /t%d", i)
				}
				if codes[i] == 350 {
					codes[i] = rawCmd(c, "RNTO /f.bin")
				}
			}()
		}
		close(start)
		wg.Wait()
		won := -1
		for i, code := range codes {
			switch {
			case code == 250 && won < 0:
				won = i
			case code == 250:
				t.Fatalf("round %d: both writers replaced the file they expected unchanged", r)
			case code != 450:
				t.Fatalf("round %d: writer %d got %d, want 250 or 450", r, i, code)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: neither writer won", r)
		}
		got, _ := os.ReadFile(filepath.Join(home, "f.bin"))
		if want := fmt.Sprintf("round %d writer %d", r, won); string(got) != want {
			t.Fatalf("round %d: f.bin = %.40q, want %q", r, got, want)
		}
	}
}

// rawCmd sends one command on c from any goroutine and returns the reply
// code (0 when the connection failed).
func rawCmd(c *ctrl, format string, args ...any) int {
	if err := c.tp.PrintfLine(format, args...); err != nil {
		return 0
	}
	code, _, _ := c.tp.ReadResponse(0)
	return code
}

// TestExpectWithFtplibStorAndBatch: any client can make an upload
// conditional, here Python's ftplib (sendcmd, then storbinary on the same
// session); and a SITE BATCH record carries the same precondition.
func TestExpectWithFtplibStorAndBatch(t *testing.T) {
	py := testenv.LookPath(t, "python3")
	ts := startServer(t, testConfig(t))
	home := filepath.Join(ts.Root, "alice")
	seedFile(t, home, "doc.txt", []byte("theirs"))
	host, port, _ := net.SplitHostPort(ts.Addr)
	script := `
import ftplib, io, sys
f = ftplib.FTP()
f.connect(sys.argv[1], int(sys.argv[2]), timeout=20)
f.login("alice", sys.argv[3])
f.sendcmd("SITE EXPECT absent /doc.txt")
try:
    f.storbinary("STOR /doc.txt", io.BytesIO(b"mine"))
    print("stored")
except ftplib.error_temp as e:
    print("refused", str(e)[:3])
f.sendcmd("SITE EXPECT sha256=` + sha256Hex([]byte("theirs")) + `; /doc.txt")
f.storbinary("STOR /doc.txt", io.BytesIO(b"mine, over theirs"))
print("stored")
f.quit()
`
	out, err := exec.Command(py, "-c", script, host, port, testPassword).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	if got := strings.Fields(string(out)); strings.Join(got, " ") != "refused 450 stored" {
		t.Fatalf("ftplib saw %q, want a refusal (450), then a store", out)
	}
	if got, _ := os.ReadFile(filepath.Join(home, "doc.txt")); string(got) != "mine, over theirs" {
		t.Fatalf("doc.txt = %q", got)
	}

	rec := func(path, expect string, data []byte) string {
		sum := sha256.Sum256(data)
		return fmt.Sprintf("F %d - %d %s\n%s%s%s\n", len(data), len(path), expect, path, data, hex.EncodeToString(sum[:]))
	}
	stream := rec("/doc.txt", "absent", []byte("lost?")) +
		rec("/new.txt", "absent", []byte("fresh")) +
		rec("/doc.txt", "size=17;sha256="+sha256Hex([]byte("mine, over theirs"))+";", []byte("third")) + "E\n"
	code, msg := runBatch(t, ts, "alice", stream)
	lines := batchLines(msg)
	if code != 226 || len(lines) != 3 || !strings.HasPrefix(lines[0], "0 450 Precondition failed") ||
		!strings.HasPrefix(lines[1], "1 226 ") || !strings.HasPrefix(lines[2], "2 226 ") {
		t.Fatalf("batch reply %d:\n%s", code, msg)
	}
	if got, _ := os.ReadFile(filepath.Join(home, "doc.txt")); string(got) != "third" {
		t.Fatalf("doc.txt = %q after the batch", got)
	}
}
