package agent

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/syncagent/syncagent/internal/vsftpd"
)

// showDotFilesOnlyOnRequest is vsftpd as Debian ships it: LIST leaves dot
// files out unless the client asks with -a.
func showDotFilesOnlyOnRequest(c *vsftpd.Config) {
	c.Extra = slices.DeleteFunc(c.Extra, func(l string) bool { return l == "force_dot_files=YES" })
}

// hideDotFiles is a vsftpd that hides dot files from every listing, -a or
// not, while they can still be read, written and deleted by name.
func hideDotFiles(c *vsftpd.Config) {
	showDotFilesOnlyOnRequest(c)
	c.Extra = append(c.Extra, "hide_file={.*}")
}

// hidingServers are the servers TestDotFilesNeverLost runs against: every
// server with its usual settings, and a vsftpd that hides dot files.
var hidingServers = append(slices.Clone(allServers[:1]), []struct {
	name  string
	start func(testing.TB) ftpTarget
}{
	{"vsftpd", func(t testing.TB) ftpTarget { return startVsftpd(t, showDotFilesOnlyOnRequest).target() }},
	{"vsftpd-hiding", func(t testing.TB) ftpTarget { return startVsftpd(t, hideDotFiles).target() }},
	{"pure-ftpd", func(t testing.TB) ftpTarget { return startPureFTPd(t) }},
	{"proftpd", func(t testing.TB) ftpTarget { return startProFTPD(t) }},
}...)

// gitLikeTree writes a small git checkout: a .git directory with nested
// objects, dot files at the top and below, and ordinary sources.
func gitLikeTree(t testing.TB, root string) {
	for rel, content := range map[string]string{
		".git/HEAD":                  "ref: refs/heads/main\n",
		".git/config":                "[core]\n\tbare = false\n",
		".git/objects/ab/cdef012345": "blob",
		".git/refs/heads/main":       "0123456789abcdef\n",
		".gitignore":                 "*.o\n",
		"src/.editorconfig":          "root = true\n",
		"src/main.go":                "package main\n",
		"README.md":                  "# tree\n",
	} {
		putFile(t, filepath.Join(root, filepath.FromSlash(rel)), content)
	}
}

// TestDotFilesNeverLost: a git-like tree synced with a server whose
// listings show dot files only on request, or hide them whatever is
// asked, is never damaged: in two-way the next passes delete nothing
// locally, and in push they upload nothing again; a pass after that has
// nothing to do.
func TestDotFilesNeverLost(t *testing.T) {
	for _, srv := range hidingServers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t)
			for _, mode := range []string{ModeTwoWay, ModePush} {
				t.Run(mode, func(t *testing.T) {
					local := t.TempDir()
					gitLikeTree(t, local)
					want := tree(t, local)
					cfg := s.folderConfig(t, local, "/git-"+mode, mode)
					cfg.Folders[0].MaxDelete = "100%" // the guard must not be what saves the tree
					a, logs := syncRetryAgent(t, cfg, 1)
					ctx := context.Background()
					if err := a.Sync(ctx, "", false, io.Discard); err != nil {
						t.Fatal(err)
					}
					uploads := len(logs.lines("msg=uploaded"))
					for pass := 2; pass <= 3; pass++ {
						if err := a.Sync(ctx, "", false, io.Discard); err != nil {
							t.Fatalf("pass %d: %v", pass, err)
						}
					}
					if d := diffTrees(want, tree(t, local)); len(d) > 0 {
						t.Fatalf("the local tree changed: %v\n%s", d, logs.lines("msg=\"deleted local\""))
					}
					if n := len(logs.lines("msg=uploaded")) - uploads; n != 0 {
						t.Fatalf("later passes uploaded %d files again", n)
					}
					var plan bytes.Buffer
					if err := a.Sync(ctx, "", true, &plan); err != nil {
						t.Fatalf("a pass over the synced tree would act: %v\n%s", err, plan.String())
					}
				})
			}
		})
	}
}

// TestPullSeesDotFiles: a dot file another client put on the server is
// pulled from every server that lists it when asked (vsftpd as Debian
// ships it shows dot files only to LIST -a).
func TestPullSeesDotFiles(t *testing.T) {
	for _, srv := range hidingServers {
		if srv.name == "vsftpd-hiding" {
			continue
		}
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t)
			for _, rel := range []string{".env", "app/.git/HEAD", "app/main.go"} {
				s.putRemote(t, "pulled/"+rel, rel)
			}
			local := t.TempDir()
			a, _ := syncRetryAgent(t, s.folderConfig(t, local, "/pulled", ModePull), 1)
			if err := a.Sync(context.Background(), "", false, io.Discard); err != nil {
				t.Fatal(err)
			}
			if d := diffTrees(tree(t, filepath.Join(s.Home, "pulled")), tree(t, local)); len(d) > 0 {
				t.Fatalf("pulled tree differs: %v", d)
			}
		})
	}
}

// TestHiddenDotFilesWithoutState: an agent with no sync history (a new
// machine, a lost state file) meets a server that hides dot files it
// already holds. Its passes must end quiet: each hidden file is found by
// name and taken as the remote side, not uploaded over and over (each
// upload expected nothing there, was refused, and was planned again).
func TestHiddenDotFilesWithoutState(t *testing.T) {
	s := startVsftpd(t, hideDotFiles).target()
	for _, mode := range []string{ModePush, ModeTwoWay} {
		t.Run(mode, func(t *testing.T) {
			local := t.TempDir()
			gitLikeTree(t, local)
			first := s.folderConfig(t, local, "/fresh-"+mode, mode)
			a, _ := syncRetryAgent(t, first, 1)
			if err := a.Sync(context.Background(), "", false, io.Discard); err != nil {
				t.Fatal(err)
			}
			a.Close()
			want := tree(t, local)
			again := s.folderConfig(t, local, "/fresh-"+mode, mode) // a new state file
			b, logs := syncRetryAgent(t, again, 1)
			syncUntilQuiet(t, b)
			// Two-way without a history or HASH cannot tell equal files
			// from different ones and keeps both (conflict copies): every
			// file must still be there as it was.
			got := tree(t, local)
			for p, h := range want {
				if got[p] != h {
					t.Errorf("local %s: %q, want %q", p, got[p], h)
				}
			}
			if d := diffTrees(want, got); mode == ModePush && len(d) > 0 {
				t.Fatalf("the local tree changed: %v", d)
			}
			uploads := len(logs.lines("msg=uploaded"))
			syncUntilQuiet(t, b)
			if n := len(logs.lines("msg=uploaded")) - uploads; n != 0 {
				t.Fatalf("a quiet pass uploaded %d files", n)
			}
		})
	}
}
