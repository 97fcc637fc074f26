package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// batchRecord builds one SITE BATCH record; trailer "" means the right
// SHA-256 of data.
func batchRecord(path, mtime string, data []byte, trailer string) string {
	if trailer == "" {
		sum := sha256.Sum256(data)
		trailer = hex.EncodeToString(sum[:])
	}
	return fmt.Sprintf("F %d %s %d\n%s%s%s\n", len(data), mtime, len(path), path, data, trailer)
}

// runBatch logs in as user, sends stream as one SITE BATCH and returns the
// final reply.
func runBatch(t *testing.T, ts *testServer, user, stream string) (int, string) {
	t.Helper()
	c := dialCtrl(t, ts.Addr, "")
	c.login(user)
	addr := c.epsv()
	dc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	c.must(150, "SITE BATCH")
	dc.SetDeadline(time.Now().Add(20 * time.Second))
	dc.Write([]byte(stream)) // the server may stop reading early: errors are its answer
	dc.Close()
	return c.read()
}

// batchLines returns the per-record lines of a batch reply, by record.
func batchLines(msg string) []string {
	var out []string
	for _, l := range strings.Split(msg, "\n") {
		if strings.HasPrefix(l, " ") {
			out = append(out, strings.TrimPrefix(l, " "))
		}
	}
	return out
}

func TestBatchStoresVerifiesAndRefuses(t *testing.T) {
	ts := startServer(t, testConfig(t))
	home := filepath.Join(ts.Root, "alice")
	if err := os.MkdirAll(filepath.Join(home, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(home, "d", "keep"), []byte("previous"), 0o644)
	stream := batchRecord("/d/a", "20240102030405.500", []byte("alpha"), "") +
		batchRecord("d/empty", "-", nil, "") +
		batchRecord("/d/keep", "-", []byte("corrupted on the way"), strings.Repeat("0", 64)) +
		batchRecord("/d/dropped", "-", []byte("changed while read"), "-") +
		batchRecord("/../../d/escaped", "-", []byte("x"), "") +
		batchRecord("/.versions/x", "-", []byte("x"), "") +
		batchRecord("/nodir/x", "-", []byte("x"), "") +
		batchRecord("/d/last", "-", bytes.Repeat([]byte("z"), 100_000), "") +
		"E\n"
	code, msg := runBatch(t, ts, "alice", stream)
	if code != 226 {
		t.Fatalf("batch reply %d %q", code, msg)
	}
	lines := batchLines(msg)
	want := []string{"0 226 ", "1 226 ", "2 451 ", "3 450 ", "4 226 ", "5 550 ", "6 550 ", "7 226 "}
	if len(lines) != len(want) {
		t.Fatalf("reply lines %q, want %d", lines, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("record %d: %q, want %q...", i, lines[i], w)
		}
	}
	if !strings.Contains(lines[0], "size=5;") || !strings.Contains(lines[0], "modify=20240102030405.500;") {
		t.Errorf("facts of /d/a: %q", lines[0])
	}
	check := func(rel, content string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(home, filepath.FromSlash(rel)))
		if err != nil || string(b) != content {
			t.Errorf("%s: %q, %v; want %q", rel, b, err, content)
		}
	}
	check("d/a", "alpha")
	check("d/empty", "")
	check("d/keep", "previous") // the corrupted replacement was discarded
	check("d/escaped", "x")     // ".." stops at the home's root, as for STOR
	check("d/last", strings.Repeat("z", 100_000))
	if _, err := os.Stat(filepath.Join(home, "d", "dropped")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dropped record stored: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(home, "d", "a")); err != nil || !fi.ModTime().Equal(time.Date(2024, 1, 2, 3, 4, 5, 5e8, time.UTC)) {
		t.Errorf("mtime of /d/a: %v, %v", fi.ModTime(), err)
	}
	assertNoStaged(t, ts.Root)
}

func TestBatchReadOnlyUser(t *testing.T) {
	ts := startServer(t, testConfig(t))
	code, msg := runBatch(t, ts, "reader", batchRecord("/x", "-", []byte("x"), "")+"E\n")
	lines := batchLines(msg)
	if code != 226 || len(lines) != 1 || !strings.HasPrefix(lines[0], "0 550 ") {
		t.Fatalf("read-only batch: %d %q", code, msg)
	}
	if _, err := os.Stat(filepath.Join(ts.Root, "alice", "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read-only user stored a file: %v", err)
	}
}

// TestBatchHostileStreams sends broken batches: each must end with a reply
// (never a hang or a crash), keep the good records before the break, leave
// nothing staged, and the server must go on serving.
func TestBatchHostileStreams(t *testing.T) {
	ts := startServer(t, testConfig(t))
	good := batchRecord("/good", "-", []byte("good"), "")
	cases := []struct {
		name   string
		stream string
		code   int
	}{
		{"no end marker", good, 426},
		{"garbage header", good + "hello\n", 501},
		{"header too long", good + "F " + strings.Repeat("9", 100) + "\n", 501},
		{"negative size", good + "F -1 - 1\nx", 501},
		{"huge path length", good + "F 1 - 99999\n", 501},
		{"bad time", good + "F 1 2024 1\nxy" + strings.Repeat("0", 64) + "\n", 501},
		{"bad trailer", good + "F 1 - 1\nxyzz\n", 501},
		{"NUL in path", good + "F 1 - 3\na\x00bx" + strings.Repeat("0", 64) + "\n", 501},
		{"short data", good + "F 100 - 1\nxabc", 426},
		{"size beyond the stream", good + "F 1000000000000 - 1\nxabc", 426},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(filepath.Join(ts.Root, "alice", "good"))
			code, msg := runBatch(t, ts, "alice", c.stream)
			if code != c.code {
				t.Errorf("reply %d %q, want %d", code, msg, c.code)
			}
			if lines := batchLines(msg); len(lines) != 1 || !strings.HasPrefix(lines[0], "0 226 ") {
				t.Errorf("good record before the break: %q", lines)
			}
			if b, err := os.ReadFile(filepath.Join(ts.Root, "alice", "good")); err != nil || string(b) != "good" {
				t.Errorf("good record on disk: %q, %v", b, err)
			}
			assertNoStaged(t, ts.Root)
		})
	}
	// Still serving.
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	c.must(257, "PWD")
}

// assertNoStaged fails if an upload is left in the server's staging area.
func assertNoStaged(t *testing.T, root string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(root, ".syncserver", "tmp"))
	for _, e := range entries {
		t.Errorf("staged upload left: %s", e.Name())
	}
}

// TestBatchGroupsAndRepeats sends more records than one commit group holds,
// with one path repeated across groups: every record is stored and listed
// in order, and the repeated path ends with its last record's content.
func TestBatchGroupsAndRepeats(t *testing.T) {
	ts := startServer(t, testConfig(t))
	home := filepath.Join(ts.Root, "alice")
	n := 2*batchGroup + 20
	repeats := map[int]bool{3: true, 4: true, batchGroup + 1: true, 2*batchGroup + 5: true, 2*batchGroup + 6: true}
	var sb strings.Builder
	last := ""
	for i := range n {
		p := fmt.Sprintf("/g/f%03d", i)
		content := fmt.Sprintf("file %d", i)
		if repeats[i] {
			p, last = "/g/same", content
		}
		sb.WriteString(batchRecord(p, "-", []byte(content), ""))
	}
	sb.WriteString("E\n")
	if err := os.MkdirAll(filepath.Join(home, "g"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, msg := runBatch(t, ts, "alice", sb.String())
	lines := batchLines(msg)
	if code != 226 || len(lines) != n {
		t.Fatalf("batch: %d, %d lines, want 226 and %d", code, len(lines), n)
	}
	for i, l := range lines {
		if want := fmt.Sprintf("%d 226 ", i); !strings.HasPrefix(l, want) {
			t.Errorf("line %d = %q, want %q...", i, l, want)
		}
	}
	for i := range n {
		if repeats[i] {
			continue
		}
		b, err := os.ReadFile(filepath.Join(home, "g", fmt.Sprintf("f%03d", i)))
		if err != nil || string(b) != fmt.Sprintf("file %d", i) {
			t.Errorf("f%03d = %q, %v", i, b, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(home, "g", "same")); err != nil || string(b) != last {
		t.Errorf("repeated path = %q, %v; want the last record's %q", b, err, last)
	}
	assertNoStaged(t, ts.Root)
}

// TestNoFsyncStores runs STOR and SITE BATCH on a server with fsync off:
// the files land exactly as with it on (only their durability differs).
func TestNoFsyncStores(t *testing.T) {
	cfg := testConfig(t)
	cfg.Fsync = false
	ts := startServer(t, cfg)
	c := dial(t, ts.Addr, "alice")
	if err := c.Stor("one.txt", strings.NewReader("stored")); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor("one.txt", strings.NewReader("replaced")); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	code, msg := runBatch(t, ts, "alice", batchRecord("/two.txt", "-", []byte("batched"), "")+"E\n")
	if lines := batchLines(msg); code != 226 || len(lines) != 1 || !strings.HasPrefix(lines[0], "0 226 ") {
		t.Fatalf("batch: %d %q", code, msg)
	}
	home := filepath.Join(ts.Root, "alice")
	for name, want := range map[string]string{"one.txt": "replaced", "two.txt": "batched"} {
		if b, err := os.ReadFile(filepath.Join(home, name)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
	assertNoStaged(t, ts.Root)
}
