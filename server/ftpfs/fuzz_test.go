package ftpfs

import (
	"testing"
	"time"
)

// FuzzJail runs random path arguments through every FS method against one
// jail and checks after each call that nothing outside the home (a file
// outside the storage root, a sibling home, the server's data) changed.
func FuzzJail(f *testing.F) {
	for i, s := range hostilePaths() {
		f.Add(uint8(i), s, "/victim.txt")
		f.Add(uint8(i), "/victim.txt", s)
	}
	e := newTestEnv(f, Options{})
	f.Fuzz(func(t *testing.T, op uint8, a, b string) {
		fs := e.fs
		switch op % 12 {
		case 0:
			fs.Stat(a)
		case 1:
			for _, fi := range must(fs.ReadDir(a)) {
				if fi.Name() == "inner.txt" || fi.Name() == "versions" {
					t.Fatalf("ReadDir(%q) listed %q from outside the home", a, fi.Name())
				}
			}
		case 2:
			if r, err := fs.Open(a); err == nil {
				buf := make([]byte, 64)
				n, _ := r.Read(buf)
				r.Close()
				noSecret(t, "Open", buf[:n])
			}
		case 3, 4, 5, 6:
			mode := CreateMode(op%12 - 3)
			if u, err := fs.Create(a, mode%3, int64(len(b)%3)); err == nil {
				u.File().WriteString(b)
				if mode == 3 {
					u.Abort()
				} else {
					u.Commit()
				}
			}
		case 7:
			fs.Mkdir(a)
		case 8:
			fs.Rename(a, b)
		case 9:
			fs.Remove(a)
		case 10:
			fs.RemoveDir(a)
		case 11:
			fs.Chtimes(a, time.Unix(int64(len(b)), 0))
		}
		e.checkUntouched(t, "fuzz op")
	})
}

// must drops the error of a call whose failure the fuzzer does not care about.
func must[T any](v T, _ error) T { return v }
