package plan

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("plan.seed", 0, "seed for the randomised planner tests (0: from $PLAN_SEED or the clock)")

func testSeed(t testing.TB) uint64 {
	seed := *seedFlag
	if seed == 0 {
		if s, err := strconv.ParseUint(os.Getenv("PLAN_SEED"), 10, 64); err == nil {
			seed = s
		}
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -plan.seed=%d or PLAN_SEED=%d)", seed, seed, seed)
	return seed
}

var modes = []Mode{Push, Pull, TwoWay}

// checkInvariants decides w under mode, checks what must hold of the action,
// applies it to the model and checks that the path converged.
func checkInvariants(mode Mode, w *world) error {
	start := *w
	startCopies := append([]byte(nil), w.copies...)
	localEdited, remoteEdited := w.edited(w.local), w.edited(w.remote)
	a := Decide(mode, w.item())
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%v %v: %v: %s", mode, start.String(), a, fmt.Sprintf(format, args...))
	}
	if a.Path != "d/f.txt" {
		return fail("wrong path %q", a.Path)
	}
	switch mode {
	case Push:
		switch a.Kind {
		case DeleteLocal, Download, MkdirLocal, RenameLocal, Conflict:
			return fail("push touched the local side")
		}
	case Pull:
		switch a.Kind {
		case DeleteRemote, Upload, MkdirRemote, RenameRemote, Conflict:
			return fail("pull touched the remote side")
		}
	case TwoWay:
		if localEdited && w.local.exists {
			switch a.Kind {
			case DeleteLocal, Download, MkdirLocal:
				return fail("local edit dropped")
			}
		}
		if remoteEdited && w.remote.exists {
			switch a.Kind {
			case DeleteRemote, Upload, MkdirRemote:
				return fail("remote edit dropped")
			}
		}
	}
	if w.local.equal(w.remote) && a.Kind == Conflict {
		return fail("identical content is a conflict")
	}
	if err := w.apply(a); err != nil {
		return fail("apply: %v", err)
	}
	steps := 1
	for {
		b := Decide(mode, w.item())
		if b.Kind == Nothing {
			break
		}
		if a.Kind != Compare || steps > 1 || b.Kind == Compare {
			return fail("not idempotent: then %v on %v", b, w)
		}
		if err := w.apply(b); err != nil {
			return fail("then %v: apply: %v", b, err)
		}
		a = b
		steps++
	}
	if !w.local.equal(w.remote) {
		return fail("did not converge: %v", w)
	}
	switch mode {
	case Push:
		if !w.local.equal(start.local) {
			return fail("push changed the local side")
		}
	case Pull:
		if !w.remote.equal(start.remote) {
			return fail("pull changed the remote side")
		}
	case TwoWay:
		kept := func(s mside) bool {
			if w.local.equal(s) {
				return true
			}
			for _, c := range w.copies[len(startCopies):] {
				if s.shape() == file && c == s.content || s.shape() == dir && c == 0 {
					return true
				}
			}
			return false
		}
		if localEdited && start.local.exists && !kept(start.local) {
			return fail("local edit lost: %v", w)
		}
		if remoteEdited && start.remote.exists && !w.local.equal(start.remote) {
			return fail("remote edit lost: %v", w)
		}
	}
	return nil
}

func TestDecideProperties(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range 20000 {
		w := genWorld(r)
		mode := modes[i%len(modes)]
		if err := checkInvariants(mode, w); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
	}
}

// TestDecideExhaustive walks every combination of base shape and side
// variant the generator knows, for every mode, by enumerating its choices.
func TestDecideExhaustive(t *testing.T) {
	n := 0
	for baseKind := range 3 {
		for baseContent := 1; baseContent <= 3; baseContent++ {
			for lv := range 6 {
				for rv := range 6 {
					for lc := 1; lc <= 3; lc++ {
						for rc := 1; rc <= 3; rc++ {
							for known := range 4 {
								for _, mode := range modes {
									w := enumWorld(baseKind, byte(baseContent), lv, rv, byte(lc), byte(rc), known)
									if err := checkInvariants(mode, w); err != nil {
										t.Fatal(err)
									}
									n++
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases", n)
}

// enumWorld builds one world from explicit choices: base 0 absent, 1 dir,
// 2 file; side variants 0 synced, 1 touched, 2 deleted, 3 dir, 4 edited
// in place (remote keeps its ID), 5 replaced (new ID); known bit 0 local
// hash known, bit 1 remote hash known.
func enumWorld(baseKind int, bc byte, lv, rv int, lc, rc byte, known int) *world {
	w := &world{}
	switch baseKind {
	case 1:
		w.local = mside{exists: true, dir: true}
	case 2:
		w.local = mside{exists: true, content: bc, mtime: w.tick(), hashKnown: true}
	}
	if w.local.exists {
		w.remote = w.local
		if !w.remote.dir {
			w.remote.mtime, w.remote.id = w.tick(), w.newID()
		}
		w.record()
	}
	variant := func(s mside, v int, c byte, hk, remote bool) mside {
		switch v {
		case 0:
			s.hashKnown = hk && s.shape() == file
		case 1:
			if s.shape() == file {
				s.mtime, s.hashKnown = w.tick(), hk
			}
		case 2:
			s = mside{}
		case 3:
			s = mside{exists: true, dir: true}
		default:
			id := ""
			if remote {
				id = s.id
				if v == 5 || id == "" {
					id = w.newID()
				}
			}
			s = mside{exists: true, content: c, mtime: w.tick(), hashKnown: hk, id: id}
		}
		return s
	}
	w.local = variant(w.local, lv, lc, known&1 != 0, false)
	w.remote = variant(w.remote, rv, rc, known&2 != 0, true)
	return w
}

// FuzzDecide drives the model generator from fuzz input; Decide must not
// panic and the invariants must hold. It also feeds Decide raw field values.
func FuzzDecide(f *testing.F) {
	f.Add(uint64(1), uint8(0), int64(5), int64(7), []byte{1, 2, 3})
	f.Add(uint64(42), uint8(2), int64(-1), int64(0), []byte{})
	f.Fuzz(func(t *testing.T, seed uint64, m uint8, size, mtime int64, raw []byte) {
		w := genWorld(rand.New(rand.NewPCG(seed, seed)))
		mode := modes[int(m)%len(modes)]
		if err := checkInvariants(mode, w); err != nil {
			t.Fatal(err)
		}
		bit := func(i int) bool { return i < len(raw) && raw[i]&1 != 0 }
		it := Item{
			Path:   string(raw),
			Local:  Side{Exists: bit(0), Dir: bit(1), Size: size, MTime: time.Unix(mtime, 0), HashKnown: bit(2)},
			Remote: Side{Exists: bit(3), Dir: bit(4), Size: size ^ 1, MTime: time.Unix(mtime, 1), HashKnown: bit(5), ID: string(raw)},
			Base:   Base{Exists: bit(6), Dir: bit(7), Size: size, RemoteSize: size, RemoteID: "x"},
		}
		for _, md := range []Mode{Push, Pull, TwoWay, Mode(m)} {
			_ = Decide(md, it)
		}
		_ = Build(mode, []Item{it})
	})
}
