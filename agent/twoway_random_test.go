package agent

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

var (
	twoWaySeeds = flag.Int("twoway.seeds", 0, "TestTwoWayRandomWriters: run seeds 1..N instead of the CI set (or SYNCAGENT_TWOWAY_SEEDS=N)")
	twoWaySeed  = flag.Uint64("twoway.seed", 0, "TestTwoWayRandomWriters: replay this one seed")
)

// twoWayCISeeds run under plain `go test`: a few seconds each.
var twoWayCISeeds = []uint64{1, 2, 3}

// twoWayOps is how many operations each writer makes per seed.
const twoWayOps = 14

// TestTwoWayRandomWriters is issue 15's randomised test: two agents in
// two-way mode on one remote folder of syncserver, and a third FTP client
// writing it directly, all at once: creates, edits of the same files on
// every side, deletes, renames of files and of directories. The seed
// decides every operation (the interleaving is the scheduler's). Once the
// writers stop, all three views must converge with no temporaries left,
// and what each writer last wrote at each path must survive: as a current
// file, a conflict copy, or an old version in the server's store.
func TestTwoWayRandomWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("three writers and two agents per seed")
	}
	n := *twoWaySeeds
	if v, err := strconv.Atoi(os.Getenv("SYNCAGENT_TWOWAY_SEEDS")); err == nil && n == 0 {
		n = v
	}
	forSeeds(t, seedsToRun(twoWayCISeeds, *twoWaySeed, n), "-run TestTwoWayRandomWriters -twoway.seed", runTwoWayRandom)
}

// Paths the writers pick from: few, so that they meet.
var (
	twoWayFiles = []string{"a.txt", "b.txt", "d/e.txt", "d/f.txt", "g/h/i.txt", "g/j.txt", "x/k.txt"}
	twoWayDirs  = []string{"d", "g", "g/h", "x", "y"}
)

func runTwoWayRandom(t *testing.T, seed uint64) {
	s := startVersionedServer(t)
	rdir := filepath.Join(s.Home, "remote")
	setup := rand.New(rand.NewPCG(seed, 0))
	all := &chaosWorld{known: map[string]string{}, protected: map[string]map[string]string{}}
	for _, p := range twoWayFiles[:4] {
		b := randomContent(setup, "initial "+p)
		putFile(t, filepath.Join(rdir, filepath.FromSlash(p)), string(b))
		all.known[sum(b)] = "initial " + p
	}
	dirs := map[string]string{"A": t.TempDir(), "B": t.TempDir()}
	for _, name := range []string{"A", "B"} {
		runNamedAgent(t, name, agentConfig(t, s, dirs[name], ModeTwoWay))
	}
	converge3(t, dirs["A"], dirs["B"], rdir)

	worlds := make(map[string]*chaosWorld)
	var wg sync.WaitGroup
	for i, name := range []string{"A", "B", "C"} {
		w := &chaosWorld{known: map[string]string{}, protected: map[string]map[string]string{name: {}}}
		worlds[name] = w
		rng := rand.New(rand.NewPCG(seed, uint64(i+1)))
		scratch := t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for op := range twoWayOps {
				origin := fmt.Sprintf("seed %d writer %s op %d", seed, name, op)
				var did string
				if name == "C" {
					did = twoWayRemoteOp(rng, w, s.Addr, rdir, origin)
				} else {
					did = twoWayLocalOp(rng, w, name, dirs[name], scratch, origin)
				}
				t.Logf("%s %s op %d: %s", time.Now().UTC().Format("15:04:05.000"), name, op, did)
				time.Sleep(time.Duration(rng.IntN(120)) * time.Millisecond)
			}
		}()
	}
	wg.Wait()

	files := converge3(t, dirs["A"], dirs["B"], rdir)
	for name, w := range worlds {
		maps.Copy(all.known, w.known)
		all.protected[name] = w.protected[name]
	}
	t.Logf("seed %d: converged on %d files; protected A %d, B %d, C %d", seed, len(files),
		len(all.protected["A"]), len(all.protected["B"]), len(all.protected["C"]))
	checkChaos(t, s, all, files)
	if t.Failed() {
		for p, h := range files {
			t.Logf("final %s: %s (%s)", p, short(h), all.known[h])
		}
	}
}

// converge3 waits (bounded) until both local folders and the remote one
// hold the same files, with no temporaries, and returns them.
func converge3(t *testing.T, a, b, remote string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		fa := waitConverged(t, a, remote, time.Until(deadline))
		fb := waitConverged(t, b, remote, time.Until(deadline))
		if again, _ := fileHashes(t, a); maps.Equal(fa, fb) && maps.Equal(fa, again) {
			return fa
		}
		if time.Now().After(deadline) {
			t.Fatalf("the two agents' folders did not converge:\n%s", strings.Join(diffHashes(fa, fb), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// twoWayLocalOp is one change to an agent's local folder by its user.
func twoWayLocalOp(rng *rand.Rand, w *chaosWorld, side, root, scratch, origin string) string {
	prot := w.protected[side]
	local := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
	switch op := rng.IntN(8); {
	case op < 4: // write: a new file or an edit, often of one another edits too
		p := twoWayFiles[rng.IntN(len(twoWayFiles))]
		b := randomContent(rng, origin)
		w.known[sum(b)] = origin
		if os.MkdirAll(filepath.Dir(local(p)), 0o755) == nil && saveAtomically(scratch, local(p), b) == nil {
			prot[p] = sum(b)
			return "wrote " + p + " " + short(sum(b))
		}
	case op == 4: // delete
		p := twoWayFiles[rng.IntN(len(twoWayFiles))]
		if os.Remove(local(p)) == nil {
			delete(prot, p)
			return "deleted " + p
		}
	case op == 5 || op == 6: // rename a file to a free name
		p, to := twoWayFiles[rng.IntN(len(twoWayFiles))], twoWayFiles[rng.IntN(len(twoWayFiles))]
		if _, err := os.Lstat(local(to)); err == nil || p == to {
			return "nothing"
		}
		os.MkdirAll(filepath.Dir(local(to)), 0o755)
		if os.Rename(local(p), local(to)) == nil {
			moveProtected(prot, p, to)
			return "renamed " + p + " to " + to
		}
	default: // rename a directory to a free name
		d, to := twoWayDirs[rng.IntN(len(twoWayDirs))], twoWayDirs[rng.IntN(len(twoWayDirs))]
		if _, err := os.Lstat(local(to)); err == nil || under(to, d) || under(d, to) {
			return "nothing"
		}
		os.MkdirAll(filepath.Dir(local(to)), 0o755)
		if os.Rename(local(d), local(to)) == nil {
			moveProtected(prot, d, to)
			return "renamed dir " + d + " to " + to
		}
	}
	return "nothing"
}

// twoWayRemoteOp is one change a plain FTP client makes in the remote
// folder (rdir on disk, only read to pick free names).
func twoWayRemoteOp(rng *rand.Rand, w *chaosWorld, addr, rdir, origin string) string {
	prot := w.protected["C"]
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		return "no connection"
	}
	defer c.Quit()
	if c.Login("agent", e2ePassword) != nil {
		return "no login"
	}
	rp := func(p string) string { return "/remote/" + p }
	exists := func(p string) bool {
		_, err := os.Lstat(filepath.Join(rdir, filepath.FromSlash(p)))
		return err == nil
	}
	switch op := rng.IntN(8); {
	case op < 4:
		p := twoWayFiles[rng.IntN(len(twoWayFiles))]
		b := randomContent(rng, origin)
		w.known[sum(b)] = origin
		mkdirs(c, path.Dir(rp(p)))
		if c.Stor(rp(p), bytes.NewReader(b)) == nil {
			prot[p] = sum(b)
			return "stored " + p + " " + short(sum(b))
		}
	case op == 4:
		p := twoWayFiles[rng.IntN(len(twoWayFiles))]
		if c.Delete(rp(p)) == nil {
			delete(prot, p)
			return "deleted " + p
		}
	case op == 5 || op == 6:
		p, to := twoWayFiles[rng.IntN(len(twoWayFiles))], twoWayFiles[rng.IntN(len(twoWayFiles))]
		if exists(to) || p == to {
			return "nothing"
		}
		mkdirs(c, path.Dir(rp(to)))
		if c.Rename(rp(p), rp(to)) == nil {
			moveProtected(prot, p, to)
			return "renamed " + p + " to " + to
		}
	default:
		d, to := twoWayDirs[rng.IntN(len(twoWayDirs))], twoWayDirs[rng.IntN(len(twoWayDirs))]
		if exists(to) || under(to, d) || under(d, to) {
			return "nothing"
		}
		mkdirs(c, path.Dir(rp(to)))
		if c.Rename(rp(d), rp(to)) == nil {
			moveProtected(prot, d, to)
			return "renamed dir " + d + " to " + to
		}
	}
	return "nothing"
}

// moveProtected follows a rename by the writer itself: what it protected
// at from (a file, or everything under a directory) is now at to, and
// whatever it protected at to was replaced by its own hand.
func moveProtected(prot map[string]string, from, to string) {
	moved := make(map[string]string)
	for p, h := range prot {
		switch {
		case under(p, from):
			moved[to+p[len(from):]] = h
			delete(prot, p)
		case under(p, to):
			delete(prot, p)
		}
	}
	maps.Copy(prot, moved)
}

// saveAtomically writes b to p as editors save: into a new file in
// scratch (outside the synced folder, on its file system), renamed over p,
// so no reader sees it half written.
func saveAtomically(scratch, p string, b []byte) error {
	tmp, err := os.CreateTemp(scratch, "save-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// runNamedAgent runs an agent whose log lines say which one it is, and
// stops it at cleanup.
func runNamedAgent(t *testing.T, name string, cfg Config) {
	t.Helper()
	runAgentLogged(t, cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})).With("agent", name), nil)
}

// runAgentLogged runs an agent logging to log, after prepare (if not
// nil) adjusted it, and stops it at cleanup.
func runAgentLogged(t *testing.T, cfg Config, log *slog.Logger, prepare func(*Agent)) *Agent {
	t.Helper()
	a, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	return a
}
