package plan

import (
	"crypto/sha256"
	"testing"
	"time"
)

var (
	t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Minute)
	t2 = t0.Add(2 * time.Minute)
	hA = sha256.Sum256([]byte("A"))
	hB = sha256.Sum256([]byte("B"))
)

// Helpers for readable tables: a file of content A or B (both 10 bytes).
func none() Side          { return Side{} }
func folder() Side        { return Side{Exists: true, Dir: true} }
func fA(t time.Time) Side { return Side{Exists: true, Size: 10, MTime: t, Hash: hA, HashKnown: true} }
func fB(t time.Time) Side { return Side{Exists: true, Size: 10, MTime: t, Hash: hB, HashKnown: true} }
func unknown(s Side) Side { s.HashKnown, s.Hash = false, [32]byte{}; return s }
func withID(s Side, id string) Side {
	s.ID = id
	return s
}
func bigger(s Side) Side { s.Size = 20; return s }

// baseA: synced as content A, local mtime t0, remote mtime t0, remote ID r1.
var baseA = Base{Exists: true, Size: 10, MTime: t0, Hash: hA, RemoteSize: 10, RemoteMTime: t0, RemoteID: "r1"}
var baseDir = Base{Exists: true, Dir: true}

func TestDecideTable(t *testing.T) {
	rA := withID(fA(t0), "r1") // remote as synced
	tests := []struct {
		name       string
		local, rem Side
		base       Base
		want       map[Mode]Kind
	}{
		{"in sync", fA(t0), rA, baseA, all(Nothing)},
		{"in sync, hashes unknown", unknown(fA(t0)), unknown(rA), baseA, all(Nothing)},
		{"never seen, absent", none(), none(), Base{}, all(Nothing)},
		{"gone on both sides", none(), none(), baseA, all(Forget)},
		{"local touched, same content", fA(t1), rA, baseA, all(RecordOnly)},
		{"remote touched, hash known", fA(t0), withID(fA(t1), "r1"), baseA, all(RecordOnly)},
		{"remote mtime moved, hash unknown", fA(t0), unknown(withID(fA(t1), "r1")), baseA,
			modeKinds(Upload, Download, Download)},
		{"remote ID changed only, hash unknown", fA(t0), unknown(withID(fA(t0), "r2")), baseA,
			modeKinds(Upload, Download, Download)},
		{"local edited", fB(t1), rA, baseA, modeKinds(Upload, Download, Upload)},
		{"local edited, hash unknown", unknown(fB(t1)), rA, baseA, modeKinds(Upload, Download, Upload)},
		{"local edited, size changed", bigger(unknown(fB(t1))), rA, baseA, modeKinds(Upload, Download, Upload)},
		{"remote edited", fA(t0), withID(fB(t1), "r2"), baseA, modeKinds(Upload, Download, Download)},
		{"both edited alike", fB(t1), withID(fB(t2), "r2"), baseA, all(RecordOnly)},
		{"both edited differently", fB(t1), withID(bigger(fA(t2)), "r2"), baseA, modeKinds(Upload, Download, Conflict)},
		{"both edited, same size, remote hash unknown", fB(t1), unknown(withID(fA(t2), "r2")), baseA,
			modeKinds(Upload, Download, Compare)},
		{"local edited, remote replaced by the same content", fB(t1), withID(fA(t2), "r2"), baseA, modeKinds(Upload, Download, Upload)},
		{"local deleted", none(), rA, baseA, modeKinds(DeleteRemote, Download, DeleteRemote)},
		{"remote deleted", fA(t0), none(), baseA, modeKinds(Upload, DeleteLocal, DeleteLocal)},
		{"local deleted, remote edited: edit wins", none(), withID(fB(t1), "r2"), baseA, modeKinds(DeleteRemote, Download, Download)},
		{"remote deleted, local edited: edit wins", fB(t1), none(), baseA, modeKinds(Upload, DeleteLocal, Upload)},
		{"new local file", fA(t0), none(), Base{}, modeKinds(Upload, DeleteLocal, Upload)},
		{"new remote file", none(), rA, Base{}, modeKinds(DeleteRemote, Download, Download)},
		{"first sync, same content", fA(t0), rA, Base{}, all(RecordOnly)},
		{"first sync, different content", fA(t0), bigger(withID(fB(t1), "r9")), Base{}, modeKinds(Upload, Download, Conflict)},
		{"first sync, same size, unknown remote hash", fA(t0), unknown(rA), Base{}, modeKinds(Upload, Download, Compare)},
		{"dir in sync", folder(), folder(), baseDir, all(Nothing)},
		{"dir first seen on both", folder(), folder(), Base{}, all(RecordOnly)},
		{"new local dir", folder(), none(), Base{}, modeKinds(MkdirRemote, DeleteLocal, MkdirRemote)},
		{"new remote dir", none(), folder(), Base{}, modeKinds(DeleteRemote, MkdirLocal, MkdirLocal)},
		{"local dir deleted", none(), folder(), baseDir, modeKinds(DeleteRemote, MkdirLocal, DeleteRemote)},
		{"remote dir deleted", folder(), none(), baseDir, modeKinds(MkdirRemote, DeleteLocal, DeleteLocal)},
		{"local file became dir", folder(), rA, baseA, modeKinds(MkdirRemote, Download, MkdirRemote)},
		{"remote file became dir", fA(t0), folder(), baseA, modeKinds(Upload, MkdirLocal, MkdirLocal)},
		{"local dir became file", fA(t0), folder(), baseDir, modeKinds(Upload, MkdirLocal, Upload)},
		{"remote dir became file", folder(), rA, baseDir, modeKinds(MkdirRemote, Download, Download)},
		{"file became dir locally, edited remotely", folder(), withID(fB(t1), "r2"), baseA, modeKinds(MkdirRemote, Download, Conflict)},
		{"file became dir on both sides", folder(), folder(), baseA, all(RecordOnly)},
		{"dir became file on both sides, same", fA(t0), rA, baseDir, all(RecordOnly)},
		{"dir became different files", fA(t0), bigger(fB(t0)), baseDir, modeKinds(Upload, Download, Conflict)},
		{"file vs dir, no base", fA(t0), folder(), Base{}, modeKinds(Upload, MkdirLocal, Conflict)},
		{"local deleted, remote became dir", none(), folder(), baseA, modeKinds(DeleteRemote, MkdirLocal, MkdirLocal)},
		{"base without hash, local mtime moved", fA(t1), unknown(rA), Base{Exists: true, Size: 10, MTime: t0, RemoteSize: 10, RemoteMTime: t0},
			modeKinds(Upload, Download, Upload)},
	}
	for _, tt := range tests {
		for _, mode := range modes {
			it := Item{Path: "p", Local: tt.local, Remote: tt.rem, Base: tt.base}
			got := Decide(mode, it)
			if got.Kind != tt.want[mode] || got.Path != "p" {
				t.Errorf("%s, %v: got %v, want %v", tt.name, mode, got, tt.want[mode])
			}
			if got.Reason == "" {
				t.Errorf("%s, %v: no reason", tt.name, mode)
			}
		}
	}
}

func all(k Kind) map[Mode]Kind { return modeKinds(k, k, k) }
func modeKinds(push, pull, two Kind) map[Mode]Kind {
	return map[Mode]Kind{Push: push, Pull: pull, TwoWay: two}
}

func TestDecideUnknownMode(t *testing.T) {
	if a := Decide(Mode(0), Item{Path: "x", Local: fA(t0)}); a.Kind != Nothing {
		t.Errorf("zero mode: %v", a)
	}
}

func TestParseMode(t *testing.T) {
	for s, want := range map[string]Mode{"push": Push, "pull": Pull, "two-way": TwoWay} {
		got, err := ParseMode(s)
		if err != nil || got != want || got.String() != s {
			t.Errorf("ParseMode(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "Push", "twoway", "sync"} {
		if _, err := ParseMode(s); err == nil {
			t.Errorf("ParseMode(%q): no error", s)
		}
	}
}

func TestKindString(t *testing.T) {
	for k := Nothing; k <= Forget; k++ {
		if s := k.String(); s == "" || s[0] == 'K' {
			t.Errorf("Kind %d has no name", int(k))
		}
	}
	a := Action{Kind: RenameRemote, Path: "a", To: "b", Reason: "renamed"}
	if got := a.String(); got != "rename-remote a -> b (renamed)" {
		t.Errorf("Action.String() = %q", got)
	}
}

func TestConflictName(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 2*3600))
	for in, want := range map[string]string{
		"report.docx":     "report.sync-conflict-20240102-010405-AB3DE7F.docx",
		"a/b/photo.JPG":   "a/b/photo.sync-conflict-20240102-010405-AB3DE7F.JPG",
		"Makefile":        "Makefile.sync-conflict-20240102-010405-AB3DE7F",
		"d/.bashrc":       "d/.bashrc.sync-conflict-20240102-010405-AB3DE7F",
		"a.tar.gz":        "a.tar.sync-conflict-20240102-010405-AB3DE7F.gz",
		"dir.v2/noext":    "dir.v2/noext.sync-conflict-20240102-010405-AB3DE7F",
		"trailing.":       "trailing..sync-conflict-20240102-010405-AB3DE7F",
		".config/app.ini": ".config/app.sync-conflict-20240102-010405-AB3DE7F.ini",
	} {
		if got := ConflictName(in, at, "AB3DE7F"); got != want {
			t.Errorf("ConflictName(%q) = %q, want %q", in, got, want)
		}
	}
}
