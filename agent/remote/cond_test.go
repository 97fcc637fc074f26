package remote

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/ftpchild/ftpchildtest"
	"github.com/syncagent/syncagent/internal/proftpd/proftpdtest"
	"github.com/syncagent/syncagent/internal/pureftpd/pureftpdtest"
	"github.com/syncagent/syncagent/internal/vsftpd/vsftpdtest"
)

// condTarget is a server the conditional writes are tried on, with the
// FTP root on disk.
type condTarget struct {
	name string
	pool func(t *testing.T) (*Pool, string)
}

// peers are the other servers run for tests, each started fresh.
var peers = []struct {
	name  string
	start func(testing.TB) *ftpchildtest.Server
}{
	{"vsftpd", func(t testing.TB) *ftpchildtest.Server { return vsftpdtest.Start(t) }},
	{"pure-ftpd", func(t testing.TB) *ftpchildtest.Server { return pureftpdtest.Start(t) }},
	{"proftpd", func(t testing.TB) *ftpchildtest.Server { return proftpdtest.Start(t) }},
}

// condTargets are syncserver and the peers.
func condTargets() []condTarget {
	out := []condTarget{{"syncserver", func(t *testing.T) (*Pool, string) {
		ts := startServer(t, serverConfig(t))
		return newPool(t, ts.Addr), ts.Home()
	}}}
	for _, p := range peers {
		out = append(out, condTarget{p.name, peerPool(p.start)})
	}
	return out
}

func peerPool(start func(testing.TB) *ftpchildtest.Server) func(t *testing.T) (*Pool, string) {
	return func(t *testing.T) (*Pool, string) {
		s := start(t)
		return newPool(t, s.Addr, func(c *Config) { c.User, c.Password = s.User, s.Password }), s.Home
	}
}

// TestConditionalWrites: on every server, an upload, a delete, a rename
// and a folder delete whose target is no longer what the caller saw write
// nothing there and fail with ErrPrecondition; with the target as seen,
// they go through. No temporary is left either way.
func TestConditionalWrites(t *testing.T) {
	for _, target := range condTargets() {
		t.Run(target.name, func(t *testing.T) {
			p, home := target.pool(t)
			ctx := testCtx(t)
			disk := func(rel string) string { return filepath.Join(home, filepath.FromSlash(rel)) }
			// Files are put there through the pool, so that they belong to
			// the server's user; the other client then rewrites one in place.
			put := func(remote, content string) {
				t.Helper()
				f := filepath.Join(t.TempDir(), "f")
				writeFile(t, f, []byte(content), time.Now().Add(-time.Hour))
				if _, err := p.Upload(ctx, f, remote, nil); err != nil {
					t.Fatal(err)
				}
			}
			src := filepath.Join(t.TempDir(), "src")
			writeFile(t, src, []byte("the agent's text"), time.Now())
			put("/c/doc.txt", "seen")
			seen, err := p.Stat(ctx, "/c/doc.txt")
			if err != nil {
				t.Fatal(err)
			}
			want := &Expect{Size: seen.Size, ModTime: seen.ModTime, ID: seen.ID, SHA256: sha256.Sum256([]byte("seen")), HashKnown: true}
			// Another client replaces it, size and all, after the look.
			if err := os.WriteFile(disk("c/doc.txt"), []byte("theirs, longer"), 0o644); err != nil {
				t.Fatal(err)
			}

			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, ErrPrecondition) {
					t.Fatalf("%s: %v, want ErrPrecondition", what, err)
				}
				if got, _ := os.ReadFile(disk("c/doc.txt")); string(got) != "theirs, longer" {
					t.Fatalf("%s: c/doc.txt = %q", what, got)
				}
			}
			_, err = p.UploadIf(ctx, src, "/c/doc.txt", want, nil)
			check("upload over a changed file", err)
			_, err = p.UploadIf(ctx, src, "/c/doc.txt", &Expect{Absent: true}, nil)
			check("upload where nothing was", err)
			check("delete of a changed file", p.DeleteIf(ctx, "/c/doc.txt", want))
			put("/c/mine.txt", "mine")
			check("rename onto a file that appeared", p.RenameIf(ctx, "/c/mine.txt", "/c/doc.txt", nil, &Expect{Absent: true}))
			check("folder delete with a file not seen", p.RemoveTreeIf(ctx, "/c", func(rp string, _ Entry) *Expect {
				if rp == "/c/mine.txt" {
					return &Expect{Size: 4}
				}
				return nil
			}))
			if _, err := os.Stat(disk("c/mine.txt")); !os.IsNotExist(err) {
				t.Fatalf("the folder delete kept the file it knew: %v", err)
			}

			// As seen: every write goes through.
			now, err := p.Stat(ctx, "/c/doc.txt")
			if err != nil {
				t.Fatal(err)
			}
			asSeen := &Expect{Size: now.Size, ModTime: now.ModTime, ID: now.ID}
			if _, err := p.UploadIf(ctx, src, "/c/doc.txt", asSeen, nil); err != nil {
				t.Fatalf("upload over the file as seen: %v", err)
			}
			if err := p.RenameIf(ctx, "/c/doc.txt", "/d/doc.txt", &Expect{Size: 16}, &Expect{Absent: true}); err != nil {
				t.Fatalf("rename as seen: %v", err)
			}
			if err := p.RemoveTreeIf(ctx, "/d", func(string, Entry) *Expect { return &Expect{Size: 16} }); err != nil {
				t.Fatalf("folder delete as seen: %v", err)
			}
			left, _ := filepath.Glob(disk("*/.syncagent-*"))
			if _, err := os.Stat(disk("d")); !os.IsNotExist(err) || len(left) > 0 {
				t.Fatalf("after the deletes: d %v, temporaries %v", err, left)
			}
			if ctx.Err() != nil {
				t.Fatal(context.Cause(ctx))
			}
		})
	}
}
