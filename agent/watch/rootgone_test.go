package watch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRunEndsWhenRootGoes removes, then renames, the watched root: each
// time Run returns ErrRootGone, so the caller knows to watch anew instead
// of holding a watcher that will never report again.
func TestRunEndsWhenRootGoes(t *testing.T) {
	for _, how := range []string{"remove", "rename"} {
		t.Run(how, func(t *testing.T) {
			parent := t.TempDir()
			root := filepath.Join(parent, "root")
			if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			w, err := New(root, Options{Debounce: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			go func() {
				for range w.Events() {
				}
			}()
			if how == "remove" {
				err = os.RemoveAll(root)
			} else {
				err = os.Rename(root, filepath.Join(parent, "moved"))
			}
			if err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !errors.Is(err, ErrRootGone) {
					t.Fatalf("Run = %v, want ErrRootGone", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Run went on after the root went away")
			}
		})
	}
}
