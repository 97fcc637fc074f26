package syncstate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// bbolt's lock is an flock on the file descriptor, so a second Open in the
// same process waits for it just as a second agent process would.
func TestSecondOpenIsLocked(t *testing.T) {
	db, path := openTest(t, Options{})
	_, err := Open(path, Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	want := "state file " + path + " is in use by another syncagent (only one agent may use a state file)"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if _, err := Open(path, Options{Timeout: 50 * time.Millisecond, ReadOnly: true}); !errors.Is(err, ErrLocked) {
		t.Errorf("read-only Open next to a writer = %v, want ErrLocked", err)
	}
	// Once the first is closed the file is free again.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db2.Close()
}

func TestReadersShareTheLock(t *testing.T) {
	db, path := openTest(t, Options{})
	db.Close()
	var open []*DB
	defer func() {
		for _, d := range open {
			d.Close()
		}
	}()
	for range 2 {
		ro, err := Open(path, Options{ReadOnly: true, Timeout: 5 * time.Second})
		if err != nil {
			if strings.Contains(err.Error(), "in use") {
				t.Skip("platform does not share read locks")
			}
			t.Fatal(err)
		}
		open = append(open, ro)
	}
}
