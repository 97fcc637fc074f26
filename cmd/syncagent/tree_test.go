package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPutGetTree copies a folder tree to the real server with put -r and
// back with get -r; a second run copies nothing, and after a file is lost
// locally get -r fetches only that one.
func TestPutGetTree(t *testing.T) {
	e := startVersionsEnv(t)
	src := filepath.Join(t.TempDir(), "tree")
	files := map[string]string{"a.txt": "alpha", "sub/b.txt": "beta", "sub/deeper/c.bin": strings.Repeat("c", 300_000)}
	writeFiles(t, src, files)
	if err := os.MkdirAll(filepath.Join(src, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := e.run(t, "put", "-r", "-server", "backup", "-config", e.config, src, "/tree")
	if err != nil || !strings.Contains(out, "sent 3 files") {
		t.Fatalf("put -r: %v\n%s", err, out)
	}
	wantFiles(t, filepath.Join(e.home, "tree"), files)
	if fi, err := os.Stat(filepath.Join(e.home, "tree", "empty")); err != nil || !fi.IsDir() {
		t.Errorf("the empty folder did not reach the server: %v", err)
	}
	out, err = e.run(t, "put", "-r", "-server", "backup", "-config", e.config, src, "/tree")
	if err != nil || !strings.Contains(out, "sent 0 files") || !strings.Contains(out, "3 already there") {
		t.Errorf("second put -r: %v\n%s", err, out)
	}

	dst := filepath.Join(t.TempDir(), "copy")
	out, err = e.run(t, "get", "-server", "backup", "-config", e.config, "-r", "/tree", dst)
	if err != nil || !strings.Contains(out, "received 3 files") {
		t.Fatalf("get -r: %v\n%s", err, out)
	}
	wantFiles(t, dst, files)
	os.Remove(filepath.Join(dst, "sub", "b.txt"))
	out, err = e.run(t, "get", "-server", "backup", "-config", e.config, "-r", "/tree", dst)
	if err != nil || !strings.Contains(out, "received 1 files") || !strings.Contains(out, "2 already there") {
		t.Errorf("get -r after losing one file: %v\n%s", err, out)
	}
	wantFiles(t, dst, files)

	// The whole home, without a local path: into the working directory.
	t.Chdir(t.TempDir())
	if out, err := e.run(t, "get", "-r", "-server", "backup", "-config", e.config, "/"); err != nil || !strings.Contains(out, "to .") {
		t.Fatalf("get -r /: %v\n%s", err, out)
	}
	wantFiles(t, "tree", files)
}

// TestLsFileAndGetUnchanged: ls of a file shows that file, and get of a
// file the local copy already matches downloads nothing.
func TestLsFileAndGetUnchanged(t *testing.T) {
	e := startVersionsEnv(t)
	e.put(t, "/one.txt", "just one")
	out, err := e.run(t, "ls", "-server", "backup", "-config", e.config, "/one.txt")
	if err != nil || !strings.Contains(out, "8") || !strings.Contains(out, "/one.txt") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("ls of a file: %v\n%s", err, out)
	}
	dst := filepath.Join(t.TempDir(), "one.txt")
	if out, err := e.run(t, "get", "-server", "backup", "-config", e.config, "/one.txt", dst); err != nil || !strings.Contains(out, "received 8 bytes") {
		t.Fatalf("first get: %v\n%s", err, out)
	}
	out, err = e.run(t, "get", "-server", "backup", "-config", e.config, "/one.txt", dst)
	if err != nil || !strings.Contains(out, "nothing downloaded") {
		t.Errorf("get of an identical file: %v\n%s", err, out)
	}
	os.WriteFile(dst, []byte("just two"), 0o644) // same size, other content
	out, err = e.run(t, "get", "-server", "backup", "-config", e.config, "/one.txt", dst)
	if err != nil || !strings.Contains(out, "received 8 bytes") || readString(t, dst) != "just one" {
		t.Errorf("get over a same-size different file: %v\n%s", err, out)
	}
}
