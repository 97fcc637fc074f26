package ftpfs

import (
	"errors"
	"path"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		cwd, arg, want string
		err            bool
	}{
		{"/", "", "/", false},
		{"/a/b", "", "/a/b", false},
		{"/a", "b", "/a/b", false},
		{"/a", "/b", "/b", false},
		{"/a", "..", "/", false},
		{"/", "..", "/", false},
		{"/", "../../etc/passwd", "/etc/passwd", false},
		{"/a/b", "../../../../x", "/x", false},
		{"/", "/../..", "/", false},
		{"/", "//etc", "/etc", false},
		{"/", "a/./b/", "/a/b", false},
		{"/", "...", "/...", false},
		{"/", "%2e%2e", "/%2e%2e", false},
		{"/", "ｄｏｃｓ/ü.txt", "/ｄｏｃｓ/ü.txt", false},
		{"", "x", "/x", false},
		{"rel", "x", "/rel/x", false},
		{"/", "a\x00b", "", true},
		{"/", `..\..\x`, "", true},
		{"/", "a\r\nDELE b", "", true},
		{"/", "a\tb", "", true},
		{"/", "a\x7fb", "", true},
		{"/a\x00", "b", "", true},
		{"/", strings.Repeat("a/", MaxPathLen), "", true},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.cwd, tt.arg)
		if tt.err {
			if !errors.Is(err, ErrInvalidPath) {
				t.Errorf("Resolve(%q, %q) = %q, %v; want ErrInvalidPath", tt.cwd, tt.arg, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q", tt.cwd, tt.arg, got, err, tt.want)
		}
	}
}

// checkResolved asserts the invariants of a path Resolve returned.
func checkResolved(t *testing.T, cwd, arg, got string) {
	t.Helper()
	if !strings.HasPrefix(got, "/") || path.Clean(got) != got {
		t.Fatalf("Resolve(%q, %q) = %q: not absolute and clean", cwd, arg, got)
	}
	for _, c := range strings.Split(got, "/") {
		if c == ".." {
			t.Fatalf("Resolve(%q, %q) = %q: contains ..", cwd, arg, got)
		}
	}
	if strings.ContainsAny(got, "\x00\\\r\n") {
		t.Fatalf("Resolve(%q, %q) = %q: contains a refused byte", cwd, arg, got)
	}
	if len(got) > MaxPathLen {
		t.Fatalf("Resolve(%q, %q): %d bytes, longer than MaxPathLen", cwd, arg, len(got))
	}
	if again, err := Resolve("/", got); err != nil || again != got {
		t.Fatalf("Resolve not idempotent: %q then %q, %v", got, again, err)
	}
	if again, err := Resolve(got, ""); err != nil || again != got {
		t.Fatalf("Resolve(%q, \"\") = %q, %v", got, again, err)
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range hostilePaths() {
		f.Add("/", s)
		f.Add("/a/b", s)
	}
	f.Fuzz(func(t *testing.T, cwd, arg string) {
		got, err := Resolve(cwd, arg)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("Resolve(%q, %q): unexpected error %v", cwd, arg, err)
			}
			return
		}
		checkResolved(t, cwd, arg, got)
	})
}

func TestErrorsArePrintable(t *testing.T) {
	f, err := Open(t.TempDir(), "alice", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, arg := range []string{"a\r\n226 forged", strings.Repeat("\n", 10000)} {
		err := f.Mkdir(arg)
		if !errors.Is(err, ErrInvalidPath) || strings.ContainsAny(err.Error(), "\r\n") || len(err.Error()) > 400 {
			t.Errorf("Mkdir(%.20q) = %.80q; want a one-line ErrInvalidPath", arg, err)
		}
	}
}
