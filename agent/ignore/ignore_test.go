package ignore

import (
	"strings"
	"testing"
)

type matchCase struct {
	path string
	dir  bool
	want bool
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		cases    []matchCase
	}{
		{"basename glob at any depth", []string{"*.tmp"}, []matchCase{
			{path: "a.tmp", want: true},
			{path: "x/y/a.tmp", want: true},
			{path: "a.tmp", dir: true, want: true},
			{path: "a.tmpx"},
			{path: "tmp"},
			{path: ".tmp", want: true},
			{path: "a.tmp/b.txt", want: true}, // inside an ignored directory
		}},
		{"office lock files", []string{"~$*"}, []matchCase{
			{path: "~$report.docx", want: true},
			{path: "docs/~$report.docx", want: true},
			{path: "report.docx"},
			{path: "a~$b"},
		}},
		{"directory only", []string{".cache/"}, []matchCase{
			{path: ".cache", dir: true, want: true},
			{path: ".cache"},
			{path: ".cache/x", want: true},
			{path: "a/.cache/x/y", want: true},
			{path: "a/.cache", dir: true, want: true},
			{path: "a/.cachex", dir: true},
		}},
		{"leading slash anchors", []string{"/build"}, []matchCase{
			{path: "build", want: true},
			{path: "build", dir: true, want: true},
			{path: "build/out.o", want: true},
			{path: "src/build"},
			{path: "src/build/out.o"},
		}},
		{"middle slash anchors", []string{"docs/*.md"}, []matchCase{
			{path: "docs/a.md", want: true},
			{path: "docs/sub/a.md"},
			{path: "x/docs/a.md"},
			{path: "a.md"},
		}},
		{"leading double star", []string{"**/logs"}, []matchCase{
			{path: "logs", dir: true, want: true},
			{path: "a/logs", dir: true, want: true},
			{path: "a/b/logs/x.log", want: true},
			{path: "alogs"},
		}},
		{"leading double star with path", []string{"**/logs/debug.log"}, []matchCase{
			{path: "logs/debug.log", want: true},
			{path: "a/b/logs/debug.log", want: true},
			{path: "logs/x/debug.log"},
		}},
		{"trailing double star", []string{"abc/**"}, []matchCase{
			{path: "abc", dir: true},
			{path: "abc/x", want: true},
			{path: "abc/x/y", want: true},
			{path: "abcd/x"},
			{path: "z/abc/x"},
		}},
		{"middle double star", []string{"a/**/b"}, []matchCase{
			{path: "a/b", want: true},
			{path: "a/x/b", want: true},
			{path: "a/x/y/b", want: true},
			{path: "a/x/y/c"},
			{path: "b"},
			{path: "a/b/c", want: true}, // inside ignored a/b
		}},
		{"several double stars", []string{"a/**/b/**/c"}, []matchCase{
			{path: "a/b/c", want: true},
			{path: "a/x/b/y/z/c", want: true},
			{path: "a/b/b/c", want: true},
			{path: "a/c"},
		}},
		{"double star alone", []string{"**"}, []matchCase{
			{path: "x", want: true},
			{path: "x/y", dir: true, want: true},
		}},
		{"stars inside a component", []string{"a**b"}, []matchCase{
			{path: "ab", want: true},
			{path: "axxb", want: true},
			{path: "a/b"},
		}},
		{"question mark", []string{"file?.txt"}, []matchCase{
			{path: "file1.txt", want: true},
			{path: "fileé.txt", want: true},
			{path: "file.txt"},
			{path: "file12.txt"},
		}},
		{"character classes", []string{"[abc].txt", "n[0-9][!x].log", "[[:upper:]]*.md", `[\]]z`, "[]]y"}, []matchCase{
			{path: "a.txt", want: true},
			{path: "d.txt"},
			{path: "n1a.log", want: true},
			{path: "n1x.log"},
			{path: "na1.log"},
			{path: "README.md", want: true},
			{path: "readme.md"},
			{path: "]z", want: true},
			{path: "]y", want: true},
		}},
		{"caret negates a class", []string{"[^a]"}, []matchCase{
			{path: "b", want: true},
			{path: "a"},
		}},
		{"negation re-includes", []string{"*.log", "!keep.log"}, []matchCase{
			{path: "a.log", want: true},
			{path: "keep.log"},
			{path: "sub/keep.log"},
		}},
		{"last match wins", []string{"!keep.log", "*.log"}, []matchCase{
			{path: "keep.log", want: true},
		}},
		{"no re-include inside ignored dir", []string{"build/", "!build/keep"}, []matchCase{
			{path: "build/keep", want: true},
			{path: "build/other", want: true},
		}},
		{"re-include inside dir/**", []string{"abc/**", "!abc/keep"}, []matchCase{
			{path: "abc/keep"},
			{path: "abc/other", want: true},
			{path: "abc", dir: true},
		}},
		{"escapes", []string{`\!important`, `\#hash`, `\*star`, `sp\ `}, []matchCase{
			{path: "!important", want: true},
			{path: "#hash", want: true},
			{path: "*star", want: true},
			{path: "xstar"},
			{path: "sp ", want: true},
			{path: "sp"},
		}},
		{"comments, blanks, trailing spaces", []string{"# a comment", "", "   ", "x.txt   "}, []matchCase{
			{path: "# a comment"},
			{path: "x.txt", want: true},
			{path: "x.txt   "},
		}},
		{"path normalisation", []string{"/a/b"}, []matchCase{
			{path: "a/b", want: true},
			{path: "./a/b", want: true},
			{path: "a//b", want: true},
			{path: "/a/b/", want: true},
			{path: ""},
			{path: "."},
		}},
		{"case sensitive like git on linux", []string{"*.TXT"}, []matchCase{
			{path: "a.TXT", want: true},
			{path: "a.txt"},
		}},
		{"agent temporaries always ignored", []string{"!.syncagent-*"}, []matchCase{
			{path: ".syncagent-upload-1", want: true},
			{path: "a/.syncagent-x/b", want: true},
			{path: "a/x.syncagent-b"},
		}},
		{"conflict copies are not special", nil, []matchCase{
			{path: "a.sync-conflict-20240102-030405.txt"},
			{path: "d/.bashrc.sync-conflict-20240102-030405"},
		}},
		{"conflict copies follow user patterns", []string{"*.txt"}, []matchCase{
			{path: "a.sync-conflict-20240102-030405.txt", want: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.patterns)
			if err != nil {
				t.Fatalf("New(%q): %v", tt.patterns, err)
			}
			for _, c := range tt.cases {
				if got := m.Match(c.path, c.dir); got != c.want {
					t.Errorf("patterns %q: Match(%q, dir=%v) = %v, want %v", tt.patterns, c.path, c.dir, got, c.want)
				}
			}
		})
	}
}

func TestNilMatcher(t *testing.T) {
	var m *Matcher
	if m.Match("a.txt", false) {
		t.Error("nil matcher ignored a.txt")
	}
	if !m.Match("d/.syncagent-tmp", false) {
		t.Error("nil matcher kept an agent temporary file")
	}
}

func TestNewErrors(t *testing.T) {
	for _, p := range []string{"[abc", "a/[b", `trailing\`, "[z-a]", "[[:nope:]]", "/", "!", "!/", "[a-"} {
		_, err := New([]string{"*.ok", p})
		if err == nil {
			t.Errorf("New(%q): no error", p)
			continue
		}
		if !strings.Contains(err.Error(), "pattern 2") || !strings.Contains(err.Error(), strings.TrimSpace(p)) {
			t.Errorf("New(%q): error %q does not name the pattern", p, err)
		}
	}
}

func TestTrimTrailingSpaces(t *testing.T) {
	for in, want := range map[string]string{
		"a  ":     "a",
		`a\ `:     `a\ `,
		`a\\ `:    `a\\`,
		`a\\\ `:   `a\\\ `,
		"   ":     "",
		"a b":     "a b",
		`a\  `:    `a\ `,
		"trail\t": "trail\t",
	} {
		if got := trimTrailingSpaces(in); got != want {
			t.Errorf("trimTrailingSpaces(%q) = %q, want %q", in, got, want)
		}
	}
}
