package server

import (
	"bufio"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/syncagent/syncagent/server/ftpfs"
)

// forgedName is a file name made on disk whose LF, sent raw, would end
// the listing line and make the rest pose as another entry.
const forgedName = "evil\ntype=file;size=999;modify=20000101000000; forged"

// TestNewlineNamesNeverBreakListings lists a directory holding a name with
// an LF and one with a CR through every listing command: no line may
// carry a forged entry, and Python's ftplib.mlsd() must see exactly the
// real, listable entries.
func TestNewlineNamesNeverBreakListings(t *testing.T) {
	ts := startServer(t, testConfig(t))
	dir := filepath.Join(ts.Root, "alice", "d")
	for _, name := range []string{forgedName, "cr\rtype=dir; forged-too", "plain.txt", "sub/" + forgedName} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	for _, line := range []string{"MLSD /d", "LIST /d", "NLST /d", "SITE TREE /d", "MLSD /d/sub"} {
		code, msg, data := c.dataCmd(line, nil)
		if code != 226 {
			t.Fatalf("%s: %d %q", line, code, msg)
		}
		if strings.Contains(string(data), "forged") || strings.Contains(strings.ReplaceAll(string(data), "\r\n", ""), "\r") {
			t.Errorf("%s lets a name forge an entry:\n%q", line, data)
		}
	}
	if _, msg := c.cmd("STAT /d"); strings.Contains(msg, "forged") {
		t.Errorf("STAT lets a name forge a reply line:\n%q", msg)
	}

	py := lookTool(t, "python3")
	host, port, _ := net.SplitHostPort(ts.Addr)
	script := `
import ftplib, sys
f = ftplib.FTP()
f.connect(sys.argv[1], int(sys.argv[2]), timeout=30)
f.login("alice", sys.argv[3])
for name, facts in f.mlsd("/d"):
    print(repr(name), facts.get("type"), facts.get("size") if facts.get("type") == "file" else "-")
f.quit()
`
	out := mustRun(t, nil, py, "-c", script, host, port, testPassword)
	got := strings.Split(strings.TrimSpace(out), "\n")
	slices.Sort(got)
	want := []string{"'plain.txt' file 1", "'sub' dir -"}
	if !slices.Equal(got, want) {
		t.Fatalf("ftplib.mlsd() sees %q, want %q", got, want)
	}
	// Removed, the names live on in the version tree, which lists
	// them no more than the home did.
	c.must(250, "RMD /d")
	for _, line := range []string{"MLSD /.versions/d", "SITE TREE /.versions/d", "NLST /.versions/d/sub"} {
		code, msg, data := c.dataCmd(line, nil)
		if code != 226 {
			t.Fatalf("%s: %d %q", line, code, msg)
		}
		if strings.Contains(string(data), "forged") {
			t.Errorf("%s lets a name forge an entry:\n%q", line, data)
		}
		if !strings.Contains(string(data), "plain.txt") && !strings.Contains(line, "sub") {
			t.Errorf("%s misses plain.txt:\n%q", line, data)
		}
	}
}

// countingLister counts the entries a listing has read from its directory.
type countingLister struct {
	dirLister
	read int
}

func (c *countingLister) Next(n int) ([]fs.FileInfo, error) {
	list, err := c.dirLister.Next(n)
	c.read += len(list)
	return list, err
}

// TestListingMemoryBounded lists a 20,000-entry directory to a reader that
// stops after the first byte: by then the listing must have read only a
// few chunks of entries and hold little heap, not the whole directory.
func TestListingMemoryBounded(t *testing.T) {
	const n = 20000
	read, grown := listingHeap(t, n)
	t.Logf("after the first write: %d of %d entries read, heap grown by %d KiB", read, n, grown/1024)
	if read > 4*listChunk {
		t.Errorf("the listing read %d entries before its first write, want at most %d", read, 4*listChunk)
	}
	if grown > 1<<20 {
		t.Errorf("heap grew by %d KiB during the listing, want under 1 MiB", grown/1024)
	}
}

// BenchmarkListingHeap100k reports the heap an MLSD listing of a
// 100,000-entry directory holds while its client is not reading.
func BenchmarkListingHeap100k(b *testing.B) {
	var grown int64
	for range b.N {
		_, g := listingHeap(b, 100000)
		grown += g
	}
	b.ReportMetric(float64(grown)/1024/float64(b.N), "KiB-heap-held")
}

// listingHeap makes a directory of n entries and lists it (MLSD lines) to
// a reader that stops after the first byte. While the listing is blocked
// there, it measures how many entries the listing has read and how much
// the heap has grown since it started; then it reads the rest and checks
// the listing is complete.
func listingHeap(t testing.TB, n int) (read int, grown int64) {
	t.Helper()
	root := t.TempDir()
	home := filepath.Join(root, "u")
	big := filepath.Join(home, "big")
	if err := os.MkdirAll(big, 0o755); err != nil {
		t.Fatal(err)
	}
	var seed string
	for i := range n {
		// Hard links: a name costs a directory entry, not an inode (ext4
		// allows 65,000 links to one).
		if i%50000 == 0 {
			seed = filepath.Join(home, "seed"+strconv.Itoa(i))
			if err := os.WriteFile(seed, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Link(seed, filepath.Join(big, "entry-"+strings.Repeat("x", 20)+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	fsys, err := ftpfs.Open(root, "u", ftpfs.Options{TempDir: filepath.Join(root, "tmp")})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	u := &UserConfig{Name: "u", Home: "u"}
	s := &session{user: u, facts: defaultFacts(), fs: newSessionFS(fsys, nil, u)}
	d, err := s.openListing("/big", false)
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingLister{dirLister: d}
	defer cl.Close()

	var before, during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(pw, 32<<10)
		err := writeListing(w, cl, func(w *bufio.Writer, fi fs.FileInfo) { s.writeFacts(w, fi, "", fi.Name()) })
		pw.CloseWithError(err)
		done <- err
	}()
	// The writer is now blocked in its first write until we read more.
	if _, err := io.ReadFull(pr, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&during)
	read = cl.read
	grown = int64(during.HeapAlloc) - int64(before.HeapAlloc)
	rest, err := io.ReadAll(pr)
	if err != nil || <-done != nil {
		t.Fatalf("listing: %v", err)
	}
	if lines := strings.Count(string(rest), "\r\n"); lines != n {
		t.Fatalf("listing has %d lines, want %d", lines, n)
	}
	return read, grown
}
