package agent

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/syncagent/syncagent/internal/testproxy"
)

var (
	chaosSeeds = flag.Int("chaos.seeds", 0, "TestChaos: run seeds 1..N instead of the fixed CI set")
	chaosSeed  = flag.Uint64("chaos.seed", 0, "TestChaos: replay this one seed")
)

// chaosCISeeds run under plain `go test`: one per mode and one more
// two-way, well under two minutes together (a few seconds each) under -race on two cores;
// a couple of minutes at most under -race on two cores.
var chaosCISeeds = []uint64{1, 2, 3, 5}

// TestChaos is the randomised convergence test. For each seed it runs a
// real syncagent process (push, pull or two-way by seed) against a real
// server through a proxy, while the test edits files on both sides (the
// remote through a second FTP client) and injects faults: connections
// reset, cut at a random byte offset or stalled, the server restarted,
// the agent SIGKILLed and restarted, a file growing while it is read.
// Once the faults stop it checks the invariants (see checkChaos).
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary under injected faults")
	}
	forSeeds(t, seedsToRun(chaosCISeeds, *chaosSeed, *chaosSeeds), "-run TestChaos -chaos.seed", runChaos)
}

// seedsToRun is what a randomised test runs: the one seed to replay if
// set, else seeds 1..n if n > 0, else the CI set.
func seedsToRun(ci []uint64, replay uint64, n int) []uint64 {
	switch {
	case replay != 0:
		return []uint64{replay}
	case n > 0:
		seeds := make([]uint64, n)
		for i := range seeds {
			seeds[i] = uint64(i + 1)
		}
		return seeds
	}
	return ci
}

// forSeeds runs run as one subtest per seed; a failed one logs how to
// replay it (go test ./agent, then replayFlag=SEED).
func forSeeds(t *testing.T, seeds []uint64, replayFlag string, run func(*testing.T, uint64)) {
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("replay with: go test ./agent %s=%d -v", replayFlag, seed)
				}
			}()
			run(t, seed)
		})
	}
}

var chaosNames = []string{"a.txt", "b.txt", "c.bin", "d/e.txt", "d/f.txt", "g/h/i.txt"}

// chaosWorld is what the test knows: every content ever written (known,
// prefixes of growing files included) and, per side, the content each
// path last got from that side's user (protected: it must survive
// somewhere, as a current file, a conflict copy or a server version).
type chaosWorld struct {
	known     map[string]string // hash -> origin
	protected map[string]map[string]string
}

func (w *chaosWorld) wrote(side, p string, b []byte) {
	w.known[sum(b)] = side + ":" + p
	w.protected[side][p] = sum(b)
}

func runChaos(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	mode := []string{ModePush, ModePull, ModeTwoWay}[seed%3]
	t.Logf("seed %d: mode %s", seed, mode)
	s := startVersionedServer(t)
	px := testproxy.New(t, s.Addr, nil)
	local := t.TempDir()
	rdir := filepath.Join(s.Home, "remote")
	os.MkdirAll(rdir, 0o755)
	ag := newAgentProc(t, px.Addr(), local, mode)
	defer func() {
		if t.Failed() {
			t.Logf("agent log:\n%s", ag.logs())
		}
	}()
	w := &chaosWorld{known: map[string]string{}, protected: map[string]map[string]string{"local": {}, "remote": {}}}
	ag.start()

	for op := range 30 {
		side := "local"
		switch mode {
		case ModePull:
			side = "remote"
		case ModePush:
			if rng.IntN(5) == 0 {
				side = "remote"
			}
		default:
			if rng.IntN(2) == 0 {
				side = "remote"
			}
		}
		origin := fmt.Sprintf("seed %d op %d %s", seed, op, side)
		if side == "local" {
			chaosLocalOp(t, rng, w, local, origin)
		} else {
			chaosRemoteOp(t, rng, w, s.Addr, origin)
		}
		if rng.IntN(10) < 3 {
			switch f := rng.IntN(5); f {
			case 0:
				px.ResetAll()
			case 1:
				px.CutAfterAny(int64(rng.IntN(300 << 10)))
			case 2:
				px.Hold(time.Duration(200+rng.IntN(1000)) * time.Millisecond)
			case 3:
				s.restart()
			case 4:
				ag.kill()
				ag.start()
			}
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
	}

	// The faults stop. A killed agent's remote temporaries go at a start
	// once old: restart it with them aged, and then it must converge.
	px.Calm()
	ag.stop()
	time.Sleep(300 * time.Millisecond)
	backdate(rdir)
	ag.start()
	files := waitConverged(t, local, rdir, 90*time.Second)
	ag.waitPasses(2)
	ag.stop()
	t.Logf("converged: %d files; protected %d local and %d remote contents", len(files), len(w.protected["local"]), len(w.protected["remote"]))
	checkChaos(t, s, w, files)
	checkState(t, ag.state, files)
	checkNoPanic(t, ag.logs())
}

// checkChaos fails the test with every violation chaosInvariants finds.
func checkChaos(t *testing.T, s *e2eServer, w *chaosWorld, files map[string]string) {
	t.Helper()
	if err := chaosInvariants(t, s, w, files); err != nil {
		t.Error(err)
	}
}

// chaosInvariants checks, on the converged tree: every file holds a content
// some user wrote (nothing torn, no temporary under a real name); every
// protected content is current, a conflict copy or a server version; the
// server left no upload in its staging area. It returns one error per
// violation, joined (chaos_selfcheck_test.go proves it can fail).
func chaosInvariants(t testing.TB, s *e2eServer, w *chaosWorld, files map[string]string) error {
	t.Helper()
	var errs []error
	present := make(map[string]bool)
	for p, h := range files {
		present[h] = true
		if _, ok := w.known[h]; !ok {
			errs = append(errs, fmt.Errorf("%s holds content no user wrote (%s)", p, short(h)))
		}
	}
	versions, _ := fileHashes(t, filepath.Join(s.root, ".syncserver", "versions"))
	for _, h := range versions {
		present[h] = true
	}
	for side, m := range w.protected {
		for p, h := range m {
			if !present[h] {
				errs = append(errs, fmt.Errorf("lost: the content %s user wrote to %s (%s)", side, p, w.known[h]))
			}
		}
	}
	staged, _ := fileHashes(t, filepath.Join(s.root, ".syncserver", "tmp"))
	for p := range staged {
		errs = append(errs, fmt.Errorf("server staging area still holds %s", p))
	}
	return errors.Join(errs...)
}

func chaosLocalOp(t *testing.T, rng *rand.Rand, w *chaosWorld, root, origin string) {
	p := chaosNames[rng.IntN(len(chaosNames))]
	full := filepath.Join(root, filepath.FromSlash(p))
	switch rng.IntN(6) {
	case 0, 1: // write
		b := randomContent(rng, origin)
		putFile(t, full, string(b))
		w.wrote("local", p, b)
	case 2: // a file growing while the agent may be reading it
		b := randomContent(rng, origin)
		os.MkdirAll(filepath.Dir(full), 0o755)
		f, err := os.Create(full)
		if err != nil {
			t.Fatal(err)
		}
		step := len(b)/4 + 1
		for i := 0; i < len(b); i += step {
			f.Write(b[i:min(len(b), i+step)])
			w.known[sum(b[:min(len(b), i+step)])] = origin + " (prefix)"
			time.Sleep(30 * time.Millisecond)
		}
		f.Close()
		w.wrote("local", p, b)
	case 3: // delete
		if os.Remove(full) == nil {
			delete(w.protected["local"], p)
		}
	default: // rename
		to := chaosNames[rng.IntN(len(chaosNames))]
		tfull := filepath.Join(root, filepath.FromSlash(to))
		if _, err := os.Stat(tfull); err == nil || to == p {
			return
		}
		os.MkdirAll(filepath.Dir(tfull), 0o755)
		if os.Rename(full, tfull) == nil {
			if h, ok := w.protected["local"][p]; ok {
				w.protected["local"][to] = h
			}
			delete(w.protected["local"], p)
		}
	}
}

// chaosRemoteOp edits the remote folder as another FTP user would,
// straight to the server. An operation whose outcome is unknown (the
// server restarting under it) protects nothing.
func chaosRemoteOp(t *testing.T, rng *rand.Rand, w *chaosWorld, addr, origin string) {
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		return
	}
	defer c.Quit()
	if c.Login("agent", e2ePassword) != nil {
		return
	}
	p := chaosNames[rng.IntN(len(chaosNames))]
	rp := "/remote/" + p
	switch rng.IntN(5) {
	case 0, 1, 2: // write
		b := randomContent(rng, origin)
		w.known[sum(b)] = origin
		mkdirs(c, path.Dir(rp))
		if c.Stor(rp, bytes.NewReader(b)) == nil {
			w.wrote("remote", p, b)
		} else {
			delete(w.protected["remote"], p)
		}
	case 3:
		if c.Delete(rp) == nil {
			delete(w.protected["remote"], p)
		}
	default:
		to := chaosNames[rng.IntN(len(chaosNames))]
		if to == p {
			return
		}
		if _, err := c.FileSize("/remote/" + to); err == nil {
			return
		}
		mkdirs(c, path.Dir("/remote/"+to))
		if c.Rename(rp, "/remote/"+to) == nil {
			if h, ok := w.protected["remote"][p]; ok {
				w.protected["remote"][to] = h
			}
			delete(w.protected["remote"], p)
		}
	}
}

func mkdirs(c *ftp.ServerConn, dir string) {
	var parts []string
	for d := dir; d != "/" && d != "."; d = path.Dir(d) {
		parts = append(parts, d)
	}
	for i := len(parts) - 1; i >= 0; i-- {
		c.MakeDir(parts[i])
	}
}
