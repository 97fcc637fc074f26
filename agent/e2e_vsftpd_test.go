package agent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/config"
	"github.com/syncagent/syncagent/internal/testproxy"
)

// vsftpdPushConfig syncs local with /mirror on v (which has no MLSD,
// HASH or MFMT: listings come from LIST, uploads are checked with SIZE).
func vsftpdPushConfig(t testing.TB, v *vsftpdServer, address, local string) Config {
	cfg := DefaultConfig()
	cfg.State = filepath.Join(t.TempDir(), "state.db")
	cfg.StatusListen = ""
	sc := v.serverConfig()
	sc.Address = address
	sc.OpTimeout = 2 * time.Second
	cfg.Servers = map[string]ServerConfig{"vsftpd": sc}
	cfg.Folders = []FolderConfig{{Name: "f", Path: local, Server: "vsftpd", Remote: "/mirror", Mode: ModePush,
		Debounce: config.Duration(20 * time.Millisecond), Poll: config.Duration(300 * time.Millisecond),
		Rescan: config.Duration(time.Hour), MaxDelete: "50%"}}
	return cfg
}

func TestE2EPushToVsftpd(t *testing.T) {
	v := startVsftpd(t)
	local := t.TempDir()
	remote := filepath.Join(v.Home, "mirror")
	want := writeRandom(t, filepath.Join(local, "large.bin"), 24<<20)
	putFile(t, filepath.Join(local, "with space/ünï.txt"), "unicode")
	putFile(t, filepath.Join(local, "empty"), "")
	for i := range 30 {
		putFile(t, filepath.Join(local, "many", string(rune('a'+i%26))+string(rune('0'+i/26))), "x")
	}
	// The first attempt at the large file dies half way (a killed
	// upload); the agent must converge anyway, without debris.
	p := testproxy.New(t, v.Addr, nil)
	p.CutAfter(6 << 20)
	cfg := vsftpdPushConfig(t, v, p.Addr(), local)
	_, stop := e2eStartAgent(t, cfg)
	waitMirror(t, local, remote, ".syncagent-*")
	if got := fileSHA(t, filepath.Join(remote, "large.bin")); got != want {
		t.Fatal("large file differs on vsftpd")
	}
	putFile(t, filepath.Join(local, "empty"), "no longer empty")
	writeRandom(t, filepath.Join(local, "large.bin"), 5<<20)
	putFile(t, filepath.Join(local, "many/a0"), "edited")
	waitMirror(t, local, remote, ".syncagent-*")
	// A cut can leave a temporary the running agent lost track of (see
	// the report); the next start removes every stale one.
	if tmp := temps(remote); len(tmp) > 0 {
		t.Logf("temporaries left while running: %v", tmp)
	}
	stop()
	cfg.StaleTempAge = time.Nanosecond
	e2eStartAgent(t, cfg)
	e2eWaitFor(t, "stale temporaries to be removed at start", func() bool { return len(temps(remote)) == 0 })
	waitMirror(t, local, remote)
}

// TestVsftpdSecondPassIsQuiet: vsftpd lists with LIST, which shows a file's
// time to the minute, while an upload records the time MDTM gave to the
// second. A pass after a complete sync must find nothing to do, in push
// and in two-way mode, and a remote change that keeps the size must still
// be seen (undone in push mode, taken in two-way) when it moves the
// listed minute, when it stays within the minute the sync saw, and when
// it dates the file ahead of the clock.
func TestVsftpdSecondPassIsQuiet(t *testing.T) {
	v := startVsftpd(t)
	for _, mode := range []string{ModePush, ModeTwoWay} {
		t.Run(mode, func(t *testing.T) {
			local := t.TempDir()
			for i := range 12 {
				putFile(t, filepath.Join(local, "d"+string(rune('a'+i%3)), "f"+string(rune('a'+i))+".txt"), strings.Repeat("x", 100+i))
			}
			cfg := vsftpdPushConfig(t, v, v.Addr, local)
			cfg.Folders[0].Remote = "/" + mode
			cfg.Folders[0].Mode = mode
			a, logs := syncRetryAgent(t, cfg, 1)
			ctx := context.Background()
			if err := a.Sync(ctx, "", false, io.Discard); err != nil {
				t.Fatal(err)
			}
			remoteDir := filepath.Join(v.Home, mode)
			if d := diffTrees(tree(t, local), tree(t, remoteDir)); len(d) > 0 {
				t.Fatalf("not mirrored after the first pass: %v", d)
			}
			var plan bytes.Buffer
			if err := a.Sync(ctx, "", true, &plan); err != nil {
				t.Fatalf("second pass would act on a synced folder: %v\n%s", err, plan.String())
			}
			uploads := len(logs.lines("msg=uploaded"))
			if err := a.Sync(ctx, "", false, io.Discard); err != nil {
				t.Fatal(err)
			}
			if n := len(logs.lines("msg=uploaded")) - uploads; n != 0 {
				t.Fatalf("a pass over a synced folder uploaded %d files", n)
			}

			// Same size, other content: once an hour back, where the
			// listed minute moves; once within the minute the sync saw,
			// which only MDTM tells (the file is recent); once ahead of
			// the clock, which LIST shows as a bare date.
			for i, c := range []struct {
				rel   string
				mtime func(synced time.Time) time.Time
			}{
				{"da/fa.txt", func(time.Time) time.Time { return time.Now().Add(-time.Hour) }},
				{"db/fb.txt", func(synced time.Time) time.Time {
					if synced.Second() > 0 {
						return synced.Add(-time.Second)
					}
					time.Sleep(1500 * time.Millisecond) // so synced+1s is not ahead
					return synced.Add(time.Second)
				}},
				{"dc/fc.txt", func(time.Time) time.Time { return time.Now().Add(30 * time.Second) }},
			} {
				victim := filepath.Join(remoteDir, filepath.FromSlash(c.rel))
				fi, err := os.Stat(victim)
				if err != nil {
					t.Fatal(err)
				}
				edited := strings.Repeat("y", int(fi.Size()))
				if err := os.WriteFile(victim, []byte(edited), 0o644); err != nil {
					t.Fatal(err)
				}
				mt := c.mtime(fi.ModTime().Truncate(time.Second))
				if err := os.Chtimes(victim, mt, mt); err != nil {
					t.Fatal(err)
				}
				plan.Reset()
				err = a.Sync(ctx, "", true, &plan)
				if !errors.Is(err, ErrNotInSync) || !strings.Contains(plan.String(), c.rel) {
					t.Fatalf("edit %d: a same-size remote change of %s (%v to %v) was not seen: %v\n%s",
						i, c.rel, fi.ModTime(), mt, err, plan.String())
				}
				if err := a.Sync(ctx, "", false, io.Discard); err != nil {
					t.Fatal(err)
				}
				want := strings.Repeat("x", int(fi.Size())) // push restores the local file
				if mode == ModeTwoWay {
					want = edited // two-way takes the remote edit
				}
				for _, p := range []string{victim, filepath.Join(local, filepath.FromSlash(c.rel))} {
					if b, err := os.ReadFile(p); err != nil || string(b) != want {
						t.Fatalf("%s after the change: %q, %v; want %q", p, b, err, want)
					}
				}
				plan.Reset()
				if err := a.Sync(ctx, "", true, &plan); err != nil {
					t.Fatalf("not quiet after the change was synced: %v\n%s", err, plan.String())
				}
			}
		})
	}
}
