//go:build linux

package ftpfs

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestDirSyncGroup runs many concurrent directory syncs over two
// directories: every one returns the fsync's result, and the group keeps
// no state once they are done.
func TestDirSyncGroup(t *testing.T) {
	base := t.TempDir()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := filepath.Join(base, []string{"a", "b"}[i%2])
			os.Mkdir(d, 0o755)
			if err := os.WriteFile(filepath.Join(d, "f"+string(rune('a'+i%26))), nil, 0o644); err != nil {
				t.Error(err)
				return
			}
			f, err := os.Open(d)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			var st os.FileInfo
			if st, err = f.Stat(); err != nil {
				t.Error(err)
				return
			}
			key, _, _ := fileIdentity(st)
			if err := dirSyncs.sync(key, f); err != nil {
				t.Errorf("sync %s: %v", d, err)
			}
		}()
	}
	wg.Wait()
	dirSyncs.mu.Lock()
	defer dirSyncs.mu.Unlock()
	if n := len(dirSyncs.dirs); n != 0 {
		t.Errorf("%d directories still tracked", n)
	}
}
