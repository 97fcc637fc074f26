package ignore

import (
	"strings"
	"testing"
)

// FuzzMatch checks that no pattern or path makes the matcher panic, and that
// a pattern without metacharacters matches exactly its literal name.
func FuzzMatch(f *testing.F) {
	f.Add("*.tmp", "a/b.tmp", false)
	f.Add("docs/**/x", "docs/a/b/x", true)
	f.Add("[a-z]?*", "abc", false)
	f.Add("!x/", "x", true)
	f.Add("report.docx", "report.docx", false)
	f.Add(`\[x`, "[x", false)
	f.Fuzz(func(t *testing.T, pattern, path string, isDir bool) {
		m, err := New([]string{pattern})
		if err == nil {
			m.Match(path, isDir)
			m.Match(pattern, isDir)
		}
		if !isLiteralName(pattern) {
			return
		}
		if err != nil {
			t.Fatalf("literal %q rejected: %v", pattern, err)
		}
		if !m.Match(pattern, isDir) {
			t.Fatalf("literal %q does not match itself", pattern)
		}
		if !m.Match("sub/dir/"+pattern, isDir) {
			t.Fatalf("literal %q does not match itself below a directory", pattern)
		}
		if name := path; !strings.Contains(name, "/") && name != "" && name != "." &&
			!strings.HasPrefix(name, TempPrefix) && name != pattern && m.Match(name, isDir) {
			t.Fatalf("literal %q matches another name %q", pattern, name)
		}
	})
}

// isLiteralName reports whether p is a plain file name that the gitignore
// language takes literally.
func isLiteralName(p string) bool {
	if p == "" || p == "." || p[0] == '!' || p[0] == '#' || strings.HasSuffix(p, " ") ||
		strings.ContainsAny(p, "*?[\\/\r\n") {
		return false
	}
	return true
}

// BenchmarkMatch is a typical folder's ignore list asked about a mix of
// ignored and kept paths.
func BenchmarkMatch(b *testing.B) {
	m, err := New([]string{
		"*.tmp", "~$*", ".cache/", "/build", "docs/**/*.bak",
		"node_modules/", "*.swp", "!important.swp", "**/logs/*.log", "[Tt]humbs.db",
	})
	if err != nil {
		b.Fatal(err)
	}
	paths := []string{
		"src/main/java/com/example/App.java",
		"docs/guide/chapter1/draft.bak",
		"a/b/c/d/e/f/g/notes.txt",
		"build/out/app.bin",
		"project/node_modules/x/index.js",
		"Thumbs.db",
		"photos/2024/IMG_0001.JPG",
		"server/logs/today.log",
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Match(paths[i%len(paths)], false)
	}
}
