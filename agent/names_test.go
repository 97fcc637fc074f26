package agent

import (
	"reflect"
	"testing"
)

func TestWindowsNameProblem(t *testing.T) {
	for name, bad := range map[string]bool{
		"ok.txt": false, "CONSOLE.txt": false, "COM10": false, ".hidden": false, "a b.txt": false, "ü.txt": false,
		"CON": true, "con.txt": true, "Nul.tar.gz": true, "LPT9": true, "AUX .txt": true,
		"trailing.": true, "trailing ": true, "a:b": true, "what?": true, "x*y": true, `a\b`: true,
		"a|b": true, "<x>": true, `"q"`: true, "tab\there": true,
	} {
		if got := windowsNameProblem(name) != ""; got != bad {
			t.Errorf("windowsNameProblem(%q) = %q, want bad=%v", name, windowsNameProblem(name), bad)
		}
	}
}

func TestCaseCollisions(t *testing.T) {
	synced := map[string]bool{"README.md": true}
	got := caseCollisions([]string{"README.md", "Readme.md", "a.txt", "Dir", "dir", "other"},
		func(p string) bool { return synced[p] })
	want := map[string][]string{"Readme.md": {"README.md"}, "Dir": {"dir"}, "dir": {"Dir"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("caseCollisions = %v, want %v", got, want)
	}
}

func TestProbeCaseFolding(t *testing.T) {
	folds, err := probeCaseFolding(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("temp dir folds case: %v", folds) // either answer is right; it must not fail or leave files
	if _, err := probeCaseFolding(t.TempDir() + "/missing"); err == nil {
		t.Error("probe of a missing directory succeeded")
	}
}
