package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/server"
)

// startVersionServer starts a real syncserver keeping keep versions per
// file, with the user "agent" (append-only if appendOnly).
func startVersionServer(t testing.TB, keep int, appendOnly bool) *e2eServer {
	t.Helper()
	return startE2EServer(t, func(cfg *server.Config) {
		cfg.Versions.Keep = keep
		cfg.Users[0].AppendOnly = appendOnly
	})
}

// rsPool opens a connection pool to s as "agent".
func rsPool(t testing.TB, s *e2eServer) *remote.Pool {
	t.Helper()
	p, err := remote.NewPool(remote.Config{Address: s.Addr, User: "agent", Password: e2ePassword, Connections: 2},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// rsPut uploads content to the remote path p.
func rsPut(t testing.TB, pool *remote.Pool, p, content string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Upload(context.Background(), src, p, nil); err != nil {
		t.Fatalf("upload %s: %v", p, err)
	}
}

// rsMark returns a time after everything so far and before anything
// next, with a clear margin over the server's millisecond version names.
func rsMark() time.Time {
	time.Sleep(3 * time.Millisecond)
	m := time.Now()
	time.Sleep(3 * time.Millisecond)
	return m
}

// rsMarkSecond is rsMark with the next whole second begun before it
// returns: MFMT carries whole seconds, so only then is the modification
// time of anything written next clearly after the mark.
func rsMarkSecond() time.Time {
	m := rsMark()
	time.Sleep(time.Until(m.Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	return m
}

func rsRead(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestContentAt(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	vs := []Version{
		{Name: "a", Time: t0},
		{Name: "b", Time: t0.Add(time.Minute)},
		{Name: "c", Time: t0.Add(2 * time.Minute)},
	}
	for _, c := range []struct {
		at      time.Time
		want    string
		current bool
	}{
		{t0.Add(-time.Hour), "a", false},        // before every version: the oldest kept
		{t0.Add(-time.Millisecond), "a", false}, // just before a ended: a was current
		{t0, "b", false},                        // a ended exactly then: b was current
		{t0.Add(time.Millisecond), "b", false},  // inside b's interval
		{t0.Add(time.Minute - 1), "b", false},   // last instant of b
		{t0.Add(time.Minute), "c", false},       // b ended: c
		{t0.Add(2*time.Minute - 1), "c", false}, // last instant of c
		{t0.Add(2 * time.Minute), "", true},     // c ended exactly then: the current content
		{t0.Add(24 * time.Hour), "", true},      // long after: current
		{t0.Add(2*time.Minute + time.Nanosecond), "", true},
	} {
		v, cur := ContentAt(vs, c.at)
		if v.Name != c.want || cur != c.current {
			t.Errorf("ContentAt(%s) = %q, current %v; want %q, %v", c.at.Format(time.RFC3339Nano), v.Name, cur, c.want, c.current)
		}
	}
	if v, cur := ContentAt(nil, t0); !cur || v.Name != "" {
		t.Errorf("no versions: %v %v, want current", v, cur)
	}
}

func TestParseAt(t *testing.T) {
	now := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-11-23T17:30:00Z":          now.Add(-30 * time.Minute),
		"2026-11-23T19:30:00.250+02:00": now.Add(-30*time.Minute + 250*time.Millisecond),
		"90m":                           now.Add(-90 * time.Minute),
		"36h":                           now.Add(-36 * time.Hour),
		"0s":                            now,
	} {
		got, err := ParseAt(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseAt(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "-5m", "2026-11-23", "5"} {
		if _, err := ParseAt(bad, now); err == nil {
			t.Errorf("ParseAt(%q) accepted", bad)
		}
	}
}

func TestLocalPathFor(t *testing.T) {
	cfg := Config{Folders: []FolderConfig{
		{Name: "docs", Path: "/home/a/Documents", Server: "backup", Remote: "/docs"},
		{Name: "deep", Path: "/home/a/Projects", Server: "backup", Remote: "/docs/projects"},
		{Name: "other", Path: "/home/a/Other", Server: "elsewhere", Remote: "/"},
		{Name: "all", Path: "/srv/all", Server: "root", Remote: "/"},
	}}
	for _, c := range []struct {
		server, remote, want string
		ok                   bool
	}{
		{"backup", "/docs/a.txt", "/home/a/Documents/a.txt", true},
		{"backup", "/docs", "/home/a/Documents", true},
		{"backup", "/docs/", "/home/a/Documents", true},
		{"backup", "/docs/sub/b.txt", "/home/a/Documents/sub/b.txt", true},
		{"backup", "/docs/projects/x/y", "/home/a/Projects/x/y", true}, // the deepest folder wins
		{"backup", "/docsx/a.txt", "", false},
		{"backup", "/elsewhere.txt", "", false},
		{"root", "/anything/at/all", "/srv/all/anything/at/all", true},
		{"root", "/", "/srv/all", true},
		{"nosuch", "/docs/a.txt", "", false},
	} {
		got, ok := LocalPathFor(cfg, c.server, c.remote)
		if got != filepath.FromSlash(c.want) || ok != c.ok {
			t.Errorf("LocalPathFor(%s, %s) = %q, %v; want %q, %v", c.server, c.remote, got, ok, c.want, c.ok)
		}
	}
}

func TestRestoreFileByTime(t *testing.T) {
	s := startVersionServer(t, 10, false)
	pool := rsPool(t, s)
	ctx := context.Background()
	contents := []string{"first", "second, longer", "third", "fourth (current)"}
	var marks []time.Time
	for _, c := range contents {
		rsPut(t, pool, "/docs/a.txt", c)
		marks = append(marks, rsMark())
	}
	vs, err := ListVersions(ctx, pool, "/docs/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 {
		t.Fatalf("versions %v, want 3", vs)
	}
	for i, v := range vs {
		if v.Size != int64(len(contents[i])) || !v.Time.After(marks[i]) || !v.Time.Before(marks[i+1]) {
			t.Errorf("version %d = %+v; want size %d, ended between %v and %v", i, v, len(contents[i]), marks[i], marks[i+1])
		}
	}
	out := filepath.Join(t.TempDir(), "restored", "a.txt")
	for i, want := range contents {
		r, err := RestoreFile(ctx, pool, "/docs/a.txt", marks[i], out)
		if err != nil {
			t.Fatalf("restore at mark %d: %v", i, err)
		}
		if got := rsRead(t, out); got != want {
			t.Errorf("content at mark %d = %q, want %q", i, got, want)
		}
		if r.Current != (i == len(contents)-1) || r.OldestKept != (i == 0) {
			t.Errorf("restore at mark %d: %+v", i, r)
		}
	}
	// Exactly at a version's end the next content was already current.
	if _, err := RestoreFile(ctx, pool, "/docs/a.txt", vs[0].Time, out); err != nil || rsRead(t, out) != contents[1] {
		t.Errorf("at the end of version 0: %q, %v; want %q", rsRead(t, out), err, contents[1])
	}
	if _, err := RestoreFile(ctx, pool, "/docs/a.txt", vs[0].Time.Add(-time.Millisecond), out); err != nil || rsRead(t, out) != contents[0] {
		t.Errorf("just before the end of version 0: %q, %v", rsRead(t, out), err)
	}
	// An hour before the file was written: it did not exist, although
	// a version older than that time's end is kept.
	r, err := RestoreFile(ctx, pool, "/docs/a.txt", marks[0].Add(-time.Hour), out)
	if !errors.Is(err, ErrNoVersions) || !strings.Contains(err.Error(), "did not exist") {
		t.Errorf("before the file was written: %+v, %v; want a did-not-exist error", r, err)
	}
	// No time: the newest old version.
	if r, err := RestoreFile(ctx, pool, "/docs/a.txt", time.Time{}, out); err != nil || r.Version != vs[2] || rsRead(t, out) != contents[2] {
		t.Errorf("newest old version: %+v, %v, %q", r, err, rsRead(t, out))
	}
	if tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(out), remote.TempPrefix+"*")); len(tmps) > 0 {
		t.Errorf("temporaries left: %v", tmps)
	}

	// A deleted file: its last content until the delete, nothing after.
	rsPut(t, pool, "/gone.txt", "was here")
	before := rsMark()
	if err := pool.Delete(ctx, "/gone.txt"); err != nil {
		t.Fatal(err)
	}
	after := rsMark()
	if _, err := RestoreFile(ctx, pool, "/gone.txt", before, out); err != nil || rsRead(t, out) != "was here" {
		t.Errorf("deleted file before the delete: %q, %v", rsRead(t, out), err)
	}
	if _, err := RestoreFile(ctx, pool, "/gone.txt", after, out); !errors.Is(err, ErrNoVersions) {
		t.Errorf("deleted file after the delete: %v, want ErrNoVersions", err)
	}
	// A file without versions, and one that never existed.
	rsPut(t, pool, "/once.txt", "only")
	if _, err := RestoreFile(ctx, pool, "/once.txt", time.Time{}, out); !errors.Is(err, ErrNoVersions) {
		t.Errorf("file without versions: %v", err)
	}
	if vs, err := ListVersions(ctx, pool, "/never.txt"); err != nil || len(vs) != 0 {
		t.Errorf("versions of a missing file: %v, %v", vs, err)
	}
	if _, err := Restore(ctx, pool, "/never.txt", time.Now(), out, RestoreOptions{}); !errors.Is(err, ErrNoVersions) {
		t.Errorf("restore of a missing file: %v", err)
	}
}

func TestRestoreTreeByTime(t *testing.T) {
	s := startVersionServer(t, 10, false)
	pool := rsPool(t, s)
	ctx := context.Background()
	good := map[string]string{
		"a.txt":           "good a",
		"sub/b.txt":       "good b",
		"sub/deep/c.txt":  "good c",
		"deleted.txt":     "good deleted",
		"gonedir/d.txt":   "good d",
		"unchanged.txt":   "never changed",
		"gonedir/e/f.txt": "good f",
	}
	for rel, c := range good {
		rsPut(t, pool, "/tree/"+rel, c)
	}
	rsPut(t, pool, "/tree/back.txt", "deleted before the time")
	if err := pool.Delete(ctx, "/tree/back.txt"); err != nil {
		t.Fatal(err)
	}
	at := rsMarkSecond()
	// Created after the time and replaced since, and written again after
	// being deleted before it: neither had content at the time, although
	// each has a version.
	rsPut(t, pool, "/tree/later2.txt", "created after")
	rsPut(t, pool, "/tree/later2.txt", "and replaced")
	rsPut(t, pool, "/tree/back.txt", "back after the time")
	for _, rel := range []string{"a.txt", "sub/b.txt", "sub/deep/c.txt"} {
		rsPut(t, pool, "/tree/"+rel, "garbage")
		rsPut(t, pool, "/tree/"+rel, "more garbage")
	}
	if err := pool.Delete(ctx, "/tree/deleted.txt"); err != nil {
		t.Fatal(err)
	}
	if err := pool.RemoveDir(ctx, "/tree/gonedir", true); err != nil {
		t.Fatal(err)
	}
	rsPut(t, pool, "/tree/later.txt", "created after")

	dst := t.TempDir()
	res, err := Restore(ctx, pool, "/tree", at, dst, RestoreOptions{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) > 0 {
		t.Fatalf("failed: %v", res.Failed)
	}
	want := make(map[string]string)
	for rel, c := range good {
		want[rel] = c
	}
	for _, rel := range []string{"later.txt", "later2.txt", "back.txt"} {
		if !slices.Contains(res.Skipped, rel) || !strings.Contains(res.Why[rel], "did not exist") {
			t.Errorf("%s, which did not exist at the time, was not skipped as such: %v %q", rel, res.Skipped, res.Why)
		}
	}
	got := make(map[string]string)
	for rel := range tree(t, dst) {
		p := filepath.Join(dst, filepath.FromSlash(rel))
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			got[rel] = rsRead(t, p)
		}
	}
	for rel, c := range want {
		if got[rel] != c {
			t.Errorf("%s = %q, want %q", rel, got[rel], c)
		}
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			t.Errorf("unexpected %s", rel)
		}
	}

	// A deleted directory is restored from the version tree alone.
	dst2 := t.TempDir()
	if _, err := Restore(ctx, pool, "/tree/gonedir", at, dst2, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if rsRead(t, filepath.Join(dst2, "d.txt")) != "good d" || rsRead(t, filepath.Join(dst2, "e", "f.txt")) != "good f" {
		t.Errorf("deleted directory: %v", tree(t, dst2))
	}
	// Without a time: each file's newest old version; files without any are skipped.
	dst3 := t.TempDir()
	res, err = Restore(ctx, pool, "/tree", time.Time{}, dst3, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rsRead(t, filepath.Join(dst3, "a.txt")); got != "garbage" {
		t.Errorf("newest old version of a.txt = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dst3, "later.txt")); err == nil {
		t.Errorf("a file without versions was restored: skipped %v", res.Skipped)
	}
}
