package syncstate

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The crash tests run this test binary again as a child that writes to a
// state file, kill it with SIGKILL (TerminateProcess on Windows) and look
// at what it left.
const (
	helperEnv     = "SYNCSTATE_TEST_HELPER" // the child's mode
	helperPathEnv = "SYNCSTATE_TEST_PATH"   // the child's state file
)

// TestHelperProcess is the child. It reports each completed Flush on
// stdout as "flushed N", meaning records p000000..p(N-1) are on disk.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("only run as a child of the crash tests")
	}
	db, err := Open(os.Getenv(helperPathEnv), Options{MaxBatch: 50, FlushInterval: time.Millisecond})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	n := 0
	put := func() {
		if err := db.Put("f", entry(fmt.Sprintf("p%06d", n), int64(n))); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		n++
	}
	flush := func() {
		if err := db.Flush(); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("flushed", n)
	}
	switch mode {
	case "flush-then-wait":
		for range 500 {
			put()
		}
		flush()
		time.Sleep(time.Minute) // killed long before
	case "write-forever":
		for range 1_000_000 { // killed long before
			put()
			if n%100 == 0 {
				flush()
			}
		}
	}
	os.Exit(3)
}

// runAndKill starts the child in mode, waits for its flushed line number
// lines, kills it, and returns the highest N it reported.
func runAndKill(t *testing.T, mode, path string, lines int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPathEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	defer kill()
	sc := bufio.NewScanner(out)
	flushed, seen := 0, 0
	for seen < lines && sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			t.Fatalf("child: %s", line)
		}
		if s, ok := strings.CutPrefix(line, "flushed "); ok {
			if flushed, err = strconv.Atoi(s); err != nil {
				t.Fatalf("child said %q", line)
			}
			seen++
		}
	}
	if seen < lines {
		t.Fatalf("child stopped after %d flushes: %v", seen, sc.Err())
	}
	kill()
	return flushed
}

// checkAfterCrash opens the file the child left, checks bbolt's own
// consistency, and returns how many records it holds, checking they are
// p000000.. with no gap: commits land in order.
func checkAfterCrash(t *testing.T, path string) int {
	t.Helper()
	db, err := Open(path, Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer db.Close()
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("bbolt check after kill: %v", err)
	}
	n := 0
	err = db.ForEach("f", func(e Entry) error {
		if want := fmt.Sprintf("p%06d", n); e.Path != want || !e.Equal(entry(want, int64(n))) {
			return fmt.Errorf("record %d is %+v, want %s", n, e, want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestKillAfterFlushKeepsRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	flushed := runAndKill(t, "flush-then-wait", path, 1)
	if got := checkAfterCrash(t, path); got != flushed {
		t.Errorf("%d records after kill, want the %d flushed", got, flushed)
	}
}

func TestKillDuringWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	flushed := runAndKill(t, "write-forever", path, 5)
	got := checkAfterCrash(t, path)
	if got < flushed {
		t.Errorf("%d records after kill, but %d were flushed", got, flushed)
	}
	t.Logf("flushed %d, found %d", flushed, got)
	// The file keeps working.
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, "f", entry("z", 1))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
