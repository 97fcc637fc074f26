package plan

import (
	"reflect"
	"strings"
	"testing"
)

func actionStrings(p Plan) []string {
	var out []string
	for _, a := range p.Actions {
		s := a.Kind.String() + " " + a.Path
		if a.To != "" {
			s += " -> " + a.To
		}
		out = append(out, s)
	}
	return out
}

func TestBuild(t *testing.T) {
	rA := withID(fA(t0), "r1")
	synced := func(p string) Item { return Item{Path: p, Local: fA(t0), Remote: rA, Base: baseA} }
	tests := []struct {
		name  string
		mode  Mode
		items []Item
		want  []string
	}{
		{"order: deletes child-first, mkdirs parent-first, renames, late deletes, transfers", Push, []Item{
			synced("keep"),
			{Path: "old", Remote: folder(), Base: baseDir},
			{Path: "old/y", Remote: rA, Base: baseA},
			{Path: "old/z", Remote: bigger(fB(t0)), Base: Base{Exists: true, Size: 20, MTime: t0, Hash: hB, RemoteSize: 20, RemoteMTime: t0}},
			{Path: "n", Local: folder()},
			{Path: "n/sub", Local: folder()},
			{Path: "n/x", Local: fB(t1)},
			{Path: "n/y", Local: fA(t1)},
			{Path: "stray", Remote: fB(t0)},
		}, []string{
			"delete-remote stray",
			"delete-remote old/z",
			"mkdir-remote n",
			"mkdir-remote n/sub",
			"rename-remote old/y -> n/y",
			"delete-remote old",
			"upload n/x",
		}},
		{"push replaces a remote directory by a file", Push, []Item{
			{Path: "p", Local: fA(t1), Remote: folder(), Base: baseDir},
			{Path: "p/c", Remote: rA, Base: baseA},
			{Path: "p/c/deeper", Remote: fB(t0)},
		}, []string{"delete-remote p/c/deeper", "delete-remote p/c", "delete-remote p", "upload p"}},
		{"pull replaces a local file by a directory", Pull, []Item{
			{Path: "p", Local: fA(t0), Remote: folder()},
			{Path: "p/c", Remote: rA},
		}, []string{"delete-local p", "mkdir-local p", "download p/c"}},
		{"two-way: edit inside a locally deleted directory keeps it", TwoWay, []Item{
			{Path: "D", Remote: folder(), Base: baseDir},
			{Path: "D/x", Remote: withID(fB(t1), "r2"), Base: baseA},
			{Path: "D/y", Remote: rA, Base: baseA},
		}, []string{"delete-remote D/y", "mkdir-local D", "download D/x"}},
		{"two-way: edit inside a remotely deleted directory keeps it", TwoWay, []Item{
			{Path: "D", Local: folder(), Base: baseDir},
			{Path: "D/E", Local: folder(), Base: baseDir},
			{Path: "D/E/x", Local: fB(t1), Base: baseA},
		}, []string{"mkdir-remote D", "mkdir-remote D/E", "upload D/E/x"}},
		{"two-way: remote replaced a dir by a file, local edit inside: conflict", TwoWay, []Item{
			{Path: "D", Local: folder(), Remote: rA, Base: baseDir},
			{Path: "D/x", Local: fB(t1), Base: baseA},
			{Path: "D/y", Local: fA(t0), Base: baseA},
		}, []string{"conflict D", "forget D/x", "forget D/y"}},
		{"two-way: remote replaced a dir by a file, nothing changed inside", TwoWay, []Item{
			{Path: "D", Local: folder(), Remote: rA, Base: baseDir},
			{Path: "D/y", Local: fA(t0), Base: baseA},
		}, []string{"delete-local D/y", "delete-local D", "download D"}},
		{"two-way: local replaced a dir by a file, remote edit inside: conflict", TwoWay, []Item{
			{Path: "D", Local: fA(t1), Remote: folder(), Base: baseDir},
			{Path: "D/x", Remote: withID(fB(t1), "r2"), Base: baseA},
			{Path: "D/y", Remote: rA, Base: baseA},
		}, []string{"conflict D", "download D/x", "download D/y"}},
		{"two-way: both sides new and different below a new directory", TwoWay, []Item{
			{Path: "N", Local: folder(), Remote: folder()},
			{Path: "N/f", Local: fA(t0), Remote: bigger(fB(t0))},
			{Path: "N/g", Local: fA(t0), Remote: rA},
		}, []string{"conflict N/f", "record N", "record N/g"}},
		{"unknown mode does nothing", Mode(9), []Item{{Path: "x", Local: fA(t0)}}, nil},
	}
	for _, tt := range tests {
		p := Build(tt.mode, tt.items)
		if got := actionStrings(p); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
		for _, a := range p.Actions {
			if a.Kind == Nothing {
				t.Errorf("%s: plan holds %v", tt.name, a)
			}
		}
	}
}

func TestPlanCounts(t *testing.T) {
	items := []Item{
		{Path: "a", Remote: fA(t0)},
		{Path: "b", Remote: fA(t0)},
		{Path: "c", Local: fA(t0)},
		{Path: "d", Local: fA(t0), Remote: folder()},
	}
	p := Build(Push, items)
	if got := p.Count(DeleteRemote); got != 3 {
		t.Errorf("Count(DeleteRemote) = %d, want 3 (%q)", got, actionStrings(p))
	}
	if got := p.Count(DeleteLocal); got != 0 {
		t.Errorf("Count(DeleteLocal) = %d", got)
	}
	if p.Count(Upload) != 2 || p.Len() != 5 {
		t.Errorf("counts: uploads %d, len %d", p.Count(Upload), p.Len())
	}
	pull := Build(Pull, items)
	if pull.Count(DeleteLocal) != 2 || pull.Count(DeleteRemote) != 0 {
		t.Errorf("pull deletes: local %d remote %d (%q)", pull.Count(DeleteLocal), pull.Count(DeleteRemote), actionStrings(pull))
	}
	var zero Plan
	if zero.Count(DeleteLocal) != 0 || zero.Count(Upload) != 0 {
		t.Error("zero Plan counts")
	}
}

func TestBuildReasons(t *testing.T) {
	p := Build(TwoWay, []Item{{Path: "x", Local: fA(t0)}, {Path: "y", Remote: fA(t0)}})
	for _, a := range p.Actions {
		if strings.TrimSpace(a.Reason) == "" {
			t.Errorf("%v has no reason", a)
		}
	}
}
