//go:build linux

package syncstate

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// mappedRSS returns the resident KiB of this process's mappings of file,
// from /proc/self/smaps.
func mappedRSS(t *testing.T, file string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	defer f.Close()
	total, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && !strings.HasSuffix(fields[0], ":"): // a mapping's first line
			in = len(fields) == 6 && fields[5] == file
		case in && len(fields) == 3 && fields[0] == "Rss:":
			n, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

// TestFolderLeavesFileUnmapped checks that loading a whole folder, which
// reads every page of its bucket, does not leave the state file resident in
// the process, and that reads afterwards still see every record.
func TestFolderLeavesFileUnmapped(t *testing.T) {
	db, path := openTest(t, Options{MaxBatch: 1 << 20})
	const n = 5000
	for i := range n {
		mustPut(t, db, "f", benchEntry(i))
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.Folder("f")
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != n {
		t.Fatalf("Folder returned %d records, want %d", len(m), n)
	}
	// The meta pages and the root of the tree may be touched again by
	// later reads; the bucket's leaves must not stay.
	if rss, size := mappedRSS(t, path), int(fi.Size()/1024); rss > size/4 {
		t.Fatalf("state file %d KiB resident after Folder, of %d KiB", rss, size)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		want := benchEntry(i)
		got, ok, err := get(db, "f", want.Path)
		if err != nil || !ok || !got.Equal(want) {
			t.Fatalf("Get %s after release = %+v, %v, %v", want.Path, got, ok, err)
		}
	}
	again, err := db.Folder("f")
	if err != nil || len(again) != n {
		t.Fatalf("Folder again: %d records, %v", len(again), err)
	}
}
