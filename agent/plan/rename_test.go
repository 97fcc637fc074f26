package plan

import (
	"reflect"
	"testing"
)

func paths(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Path)
	}
	return out
}

func renameStrings(as []Action) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Kind.String()+" "+a.Path+" -> "+a.To)
	}
	return out
}

func TestDetectRenames(t *testing.T) {
	rA := withID(fA(t0), "r1")
	goneLocal := func(p string) Item { return Item{Path: p, Remote: rA, Base: baseA} }
	newLocal := func(p string, s Side) Item { return Item{Path: p, Local: s} }
	goneRemote := func(p string) Item { return Item{Path: p, Local: fA(t0), Base: baseA} }
	newRemote := func(p string, s Side) Item { return Item{Path: p, Remote: s} }
	syncedDir := func(p string) Item { return Item{Path: p, Local: folder(), Remote: folder(), Base: baseDir} }

	tests := []struct {
		name  string
		mode  Mode
		items []Item
		want  []string
		rest  []string
	}{
		{"local file rename", Push,
			[]Item{goneLocal("a.txt"), newLocal("b.txt", fA(t1))},
			[]string{"rename-remote a.txt -> b.txt"}, nil},
		{"case-only rename", TwoWay,
			[]Item{goneLocal("a.txt"), newLocal("A.txt", fA(t1))},
			[]string{"rename-remote a.txt -> A.txt"}, nil},
		{"rename into another directory", TwoWay,
			[]Item{syncedDir("d"), goneLocal("a.txt"), newLocal("d/a.txt", fA(t1))},
			[]string{"rename-remote a.txt -> d/a.txt"}, []string{"d"}},
		{"pull ignores local renames", Pull,
			[]Item{goneLocal("a.txt"), newLocal("b.txt", fA(t1))},
			nil, []string{"a.txt", "b.txt"}},
		{"different content is no rename", Push,
			[]Item{goneLocal("a.txt"), newLocal("b.txt", fB(t1))},
			nil, []string{"a.txt", "b.txt"}},
		{"unknown hash is no rename", Push,
			[]Item{goneLocal("a.txt"), newLocal("b.txt", unknown(fA(t1)))},
			nil, []string{"a.txt", "b.txt"}},
		{"remote edited meanwhile: no rename", TwoWay,
			[]Item{{Path: "a.txt", Remote: withID(bigger(fB(t1)), "r2"), Base: baseA}, newLocal("b.txt", fA(t1))},
			nil, []string{"a.txt", "b.txt"}},
		{"target taken remotely: no rename", Push,
			[]Item{goneLocal("a.txt"), {Path: "b.txt", Local: fA(t1), Remote: fB(t0)}},
			nil, []string{"a.txt", "b.txt"}},
		{"target parent is a remote file: no rename", TwoWay,
			[]Item{goneLocal("a.txt"), {Path: "d", Local: folder(), Remote: fB(t0)}, newLocal("d/a.txt", fA(t1))},
			nil, []string{"a.txt", "d", "d/a.txt"}},
		{"duplicates pair in path order", Push,
			[]Item{goneLocal("x1"), goneLocal("x2"), newLocal("y2", fA(t1)), newLocal("y1", fA(t1))},
			[]string{"rename-remote x1 -> y1", "rename-remote x2 -> y2"}, nil},
		{"remote rename by unique ID", Pull,
			[]Item{goneRemote("a.txt"), newRemote("b.txt", unknown(rA))},
			[]string{"rename-local a.txt -> b.txt"}, nil},
		{"remote rename by ID needs the same mtime", Pull,
			[]Item{goneRemote("a.txt"), newRemote("b.txt", unknown(withID(fA(t1), "r1")))},
			nil, []string{"a.txt", "b.txt"}},
		{"remote rename by hash", TwoWay,
			[]Item{goneRemote("a.txt"), newRemote("b.txt", withID(fA(t2), "r7"))},
			[]string{"rename-local a.txt -> b.txt"}, nil},
		{"push ignores remote renames", Push,
			[]Item{goneRemote("a.txt"), newRemote("b.txt", unknown(rA))},
			nil, []string{"a.txt", "b.txt"}},
		{"directory rename", TwoWay,
			[]Item{
				{Path: "docs", Remote: folder(), Base: baseDir},
				goneLocal("docs/a"),
				{Path: "docs/sub", Remote: folder(), Base: baseDir},
				goneLocal("docs/sub/b"),
				newLocal("papers", folder()),
				newLocal("papers/a", fA(t1)),
				newLocal("papers/sub", folder()),
				newLocal("papers/sub/b", fA(t1)),
				syncedDir("other"),
			},
			[]string{"rename-remote docs -> papers"}, []string{"other"}},
		{"directory case-only rename", Push,
			[]Item{
				{Path: "Docs", Remote: folder(), Base: baseDir},
				goneLocal("Docs/a"),
				newLocal("docs", folder()),
				newLocal("docs/a", fA(t1)),
			},
			[]string{"rename-remote Docs -> docs"}, nil},
		{"directory with a changed file falls back to file renames", Push,
			[]Item{
				{Path: "docs", Remote: folder(), Base: baseDir},
				goneLocal("docs/a"),
				goneLocal("docs/b"),
				newLocal("papers", folder()),
				newLocal("papers/a", fA(t1)),
				newLocal("papers/b", fB(t1)),
			},
			[]string{"rename-remote docs/a -> papers/a"}, []string{"docs", "docs/b", "papers", "papers/b"}},
		{"remote directory rename", Pull,
			[]Item{
				{Path: "d1", Local: folder(), Base: baseDir},
				goneRemote("d1/f"),
				newRemote("d2", folder()),
				newRemote("d2/f", unknown(rA)),
			},
			[]string{"rename-local d1 -> d2"}, nil},
	}
	for _, tt := range tests {
		got, rest := DetectRenames(tt.mode, tt.items)
		if !reflect.DeepEqual(renameStrings(got), tt.want) {
			t.Errorf("%s: renames %q, want %q", tt.name, renameStrings(got), tt.want)
		}
		if !reflect.DeepEqual(paths(rest), tt.rest) {
			t.Errorf("%s: rest %q, want %q", tt.name, paths(rest), tt.rest)
		}
	}
}
