package versions

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMaxBytesPrunesOldestOfTheHome bounds one home's versions across its
// files, oldest first, down to 90% of the bound, and leaves other homes
// and protected versions alone.
func TestMaxBytesPrunesOldestOfTheHome(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "v"), Options{Keep: 100, MaxBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kb := strings.Repeat("x", 300)
	put(t, s, "bob", "/b", base, kb)
	sl, err := s.Reserve("alice", "/p", base)
	if err != nil {
		t.Fatal(err)
	}
	writeSlot(t, sl, kb)
	sl.Protect()
	sl.Commit()
	for i, p := range []string{"/a", "/b", "/c", "/a"} {
		put(t, s, "alice", p, base.Add(time.Duration(i+1)*time.Second), kb)
	}
	// alice had 5 × 300 = 1500 bytes: down to at most 900, oldest
	// unprotected first, so /a's first and /b go; /p is protected.
	for p, want := range map[string]int{"/p": 1, "/a": 1, "/b": 0, "/c": 1} {
		if vs, _ := s.List("alice", p); len(vs) != want {
			t.Errorf("alice %s keeps %d versions, want %d", p, len(vs), want)
		}
	}
	if vs, _ := s.List("bob", "/b"); len(vs) != 1 {
		t.Errorf("bob's version was pruned for alice's bound")
	}
	// Protected versions are never pruned: a new one that would pass the
	// bound is refused instead.
	if err := s.Admit("alice", 700); err != nil {
		t.Errorf("Admit of 700 more protected bytes (300 held) = %v", err)
	}
	if err := s.Admit("alice", 701); !errors.Is(err, ErrFull) {
		t.Errorf("Admit of 701 more protected bytes = %v, want ErrFull", err)
	}
}

// writeSlot places content under a reserved slot's name.
func writeSlot(t *testing.T, sl *Slot, content string) {
	t.Helper()
	if err := os.WriteFile(sl.Path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
