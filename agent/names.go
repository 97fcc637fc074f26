package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/syncagent/syncagent/agent/plan"
)

// ErrLocalName marks a remote path that the local disk cannot hold under
// its own name. Such paths are reported per path and skipped: renaming
// them would silently diverge from the server, and letting the disk fold
// two names into one would merge two files.
var ErrLocalName = errors.New("name cannot be stored on the local disk")

// windowsReserved are the device names Windows refuses as a file name,
// with or without an extension, in any case.
var windowsReserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true,
	"COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true,
	"LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
}

// windowsNameProblem says why a single path element cannot be a file name
// on Windows, or returns "" when it can. It is a pure function, tested on
// every OS and applied only on Windows.
func windowsNameProblem(name string) string {
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.TrimRight(stem, " ")
	switch {
	case windowsReserved[strings.ToUpper(stem)]:
		return "reserved device name on Windows"
	case strings.HasSuffix(name, "."):
		return "trailing dot"
	case strings.HasSuffix(name, " "):
		return "trailing space"
	}
	for _, r := range name {
		if r < 0x20 {
			return "control character"
		}
		if strings.ContainsRune(`<>:"\|?*`, r) {
			return fmt.Sprintf("character %q", r)
		}
	}
	return ""
}

// pathNameProblem applies windowsNameProblem to every element of a slash
// path.
func pathNameProblem(p string) string {
	for _, el := range strings.Split(p, "/") {
		if why := windowsNameProblem(el); why != "" {
			return fmt.Sprintf("%q: %s", el, why)
		}
	}
	return ""
}

// caseCollisions groups paths that differ only in letter case (the whole
// path folded) and returns, for every path of a group of two or more that
// is not in keep, the other spellings it collides with. A path in keep (one
// already synced under that exact name) stays synced; the newcomers are
// the ones refused. It is a pure function.
func caseCollisions(paths []string, keep func(string) bool) map[string][]string {
	groups := make(map[string][]string)
	for _, p := range paths {
		k := strings.ToLower(p)
		groups[k] = append(groups[k], p)
	}
	out := make(map[string][]string)
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		for _, p := range g {
			if keep(p) {
				continue
			}
			var others []string
			for _, q := range g {
				if q != p {
					others = append(others, q)
				}
			}
			out[p] = others
		}
	}
	return out
}

// caseProbe remembers whether a folder's disk folds letter case. The probe
// is a temporary file looked up under another case; it runs once per
// folder, and again only while the folder does not exist yet.
type caseProbe struct {
	mu     sync.Mutex
	known  bool
	folds  bool
	goos   string // runtime.GOOS unless a test sets it
	forced *bool  // tests: pretend the disk does (or does not) fold case

	reported map[string]bool // paths already logged, so polls do not repeat them
}

// firstReport reports whether p is logged for the first time.
func (c *caseProbe) firstReport(p string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reported == nil {
		c.reported = make(map[string]bool)
	}
	seen := c.reported[p]
	c.reported[p] = true
	return !seen
}

// insensitive reports whether the disk under root folds case. Before the
// folder exists it guesses from the OS (Windows and macOS usually fold).
func (c *caseProbe) insensitive(root string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forced != nil {
		return *c.forced
	}
	if c.known {
		return c.folds
	}
	folds, err := probeCaseFolding(root)
	if err != nil {
		return c.os() == "windows" || c.os() == "darwin"
	}
	c.known, c.folds = true, folds
	return folds
}

func (c *caseProbe) os() string {
	if c.goos != "" {
		return c.goos
	}
	return runtime.GOOS
}

// probeCaseFolding creates a lowercase temporary in dir and looks it up in
// upper case.
func probeCaseFolding(dir string) (bool, error) {
	f, err := os.CreateTemp(dir, ".syncagent-case-*")
	if err != nil {
		return false, fmt.Errorf("probe case folding: %w", err)
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	lower, err := os.Stat(name)
	if err != nil {
		return false, fmt.Errorf("probe case folding: %w", err)
	}
	upper, err := os.Stat(filepath.Join(dir, strings.ToUpper(filepath.Base(name))))
	if err != nil {
		return false, nil
	}
	return os.SameFile(lower, upper), nil
}

// checkNames removes from paths (a pass's sorted candidate paths) the ones
// the local disk cannot hold, with everything below them, and records each
// as a problem. It applies to pull and two-way only: in push the remote
// names never reach the local disk. The Windows rules apply only on
// Windows; the case rule only when the disk folds case.
func (f *folder) checkNames(paths []string, local scanResult, res *passResult) []string {
	if f.mode == plan.Push || len(paths) == 0 {
		return paths
	}
	bad := make(map[string]error)
	if f.names.os() == "windows" {
		for _, p := range paths {
			if _, ok := local.Entries[p]; ok || blockedBy(p, bad) {
				continue // the disk holds it, or its parent is already refused
			}
			if why := pathNameProblem(p); why != "" {
				bad[p] = fmt.Errorf("%w: %s", ErrLocalName, why)
			}
		}
	}
	if f.names.insensitive(f.root) {
		coll := caseCollisions(paths, func(p string) bool {
			f.mu.Lock()
			_, synced := f.base[p]
			f.mu.Unlock()
			return synced
		})
		for p, others := range coll {
			bad[p] = fmt.Errorf("%w: differs only in case from %s on a case-insensitive disk",
				ErrLocalName, strings.Join(others, ", "))
		}
	}
	if len(bad) == 0 {
		return paths
	}
	out := paths[:0]
	for _, p := range paths {
		if err := bad[p]; err != nil {
			res.Problems[p] = err
			continue
		}
		if blockedBy(p, bad) {
			continue
		}
		out = append(out, p)
	}
	for p, err := range bad {
		if !f.names.firstReport(p) {
			continue
		}
		f.log.Warn("skipped remote path the local disk cannot hold", "path", p, "err", err)
	}
	return out
}

// unchangedSincePlan fails with errChanged when the local path is no longer
// what the plan saw (a file edited or created, or a directory where a file
// was). A download runs it as late as possible, just before its rename, so
// a local edit is never overwritten.
func (f *folder) unchangedSincePlan(rel string, it plan.Item) error {
	cur, ok, err := statLocal(f.root, rel)
	switch {
	case err != nil:
		return err
	case ok != it.Local.Exists:
		return errChanged
	case ok && (cur.Dir != it.Local.Dir || cur.Size != it.Local.Size || !cur.MTime.Equal(it.Local.MTime)):
		return errChanged
	}
	return nil
}
