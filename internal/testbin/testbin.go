// Package testbin builds the project's commands once per test process, so
// tests can run them as real processes (kill -9 them, run them as another
// user). Only tests import it.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string]*build{}
)

type build struct {
	once sync.Once
	path string
	err  error
}

// Path returns the binary of the command package pkg (an import path such
// as "github.com/syncagent/syncagent/cmd/syncagent"), building it on first
// use; a failed build fails every test that asks. Safe for concurrent use.
func Path(t testing.TB, pkg string) string {
	t.Helper()
	mu.Lock()
	b := built[pkg]
	if b == nil {
		b = &build{}
		built[pkg] = b
	}
	mu.Unlock()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "testbin-")
		if err != nil {
			b.err = err
			return
		}
		// Readable by all: some tests run the binary as another user.
		if err := os.Chmod(dir, 0o755); err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, path.Base(pkg))
		if out, err := exec.Command("go", "build", "-o", b.path, pkg).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}
