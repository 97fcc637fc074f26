package remote

import (
	"context"
	"errors"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jlaffaye/ftp"
)

// TempPrefix starts the name of every temporary file this package creates,
// remote and local. Walk never reports such names.
const TempPrefix = ".syncagent-"

// The precisions of a LIST line's time (see Entry.TimePrecision).
const (
	ListMinute = time.Minute
	ListDay    = 24 * time.Hour
)

// IsTemp reports whether name (a base name) is one of our temporaries.
func IsTemp(name string) bool { return strings.HasPrefix(name, TempPrefix) }

// Entry is one remote file or directory.
type Entry struct {
	// Name is the base name.
	Name string
	Dir  bool
	Size int64
	// ModTime is the modification time in UTC; zero when the server gave none.
	ModTime time.Time
	// TimePrecision is how finely ModTime is known: zero when the server
	// gave it to the second or better (MLSD, MLST, MDTM); ListMinute or
	// ListDay when it came from a LIST line, which shows a recent file's
	// time to the minute and an older one's only as a date.
	TimePrecision time.Duration
	// ID is the server's MLSD "unique" fact (stable across renames on most
	// servers); empty when the server does not offer it.
	ID string
	// Perm is the MLSD "perm" fact (RFC 3659 7.5.5): what this login may do
	// with the entry; empty when the server does not say.
	Perm string
}

// parseMLSx parses one MLSD line or MLST fact line ("facts SP name"). It
// reports false for lines that are not a file or a directory (cdir, pdir,
// links and other OS-specific types).
func parseMLSx(line string) (Entry, bool) {
	facts, name, ok := strings.Cut(line, " ")
	if !ok || name == "" {
		return Entry{}, false
	}
	e := Entry{Name: name}
	kind := ""
	for f := range strings.SplitSeq(facts, ";") {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "type":
			kind = strings.ToLower(v)
		case "size":
			e.Size, _ = strconv.ParseInt(v, 10, 64)
		case "modify":
			e.ModTime = parseMLSTime(v)
		case "unique":
			e.ID = v
		case "perm":
			e.Perm = v
		}
	}
	switch kind {
	case "file":
	case "dir":
		e.Dir = true
		e.Size = 0
	default:
		return Entry{}, false
	}
	return e, true
}

// parseMLSTime parses YYYYMMDDHHMMSS[.sss] (RFC 3659 section 2.3), in UTC.
func parseMLSTime(v string) time.Time {
	layout := "20060102150405"
	if i := strings.IndexByte(v, '.'); i >= 0 {
		layout += "." + strings.Repeat("0", len(v)-i-1)
	}
	t, err := time.ParseInLocation(layout, v, time.UTC)
	if err != nil {
		return time.Time{}
	}
	return t
}

// validName rejects names a server should never send in a listing and
// that would escape the listed directory if trusted.
func validName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\x00")
}

// List returns the files and directories in dir (MLSD when the server
// offers it, else LIST), without "." and "..".
func (p *Pool) List(ctx context.Context, dir string) ([]Entry, error) {
	if err := checkPath(dir); err != nil {
		return nil, err
	}
	var out []Entry
	err := p.do(ctx, func(s *slot) error {
		var err error
		out, err = p.list(s, dir)
		return err
	})
	if err != nil {
		return nil, opError("list", dir, err)
	}
	return out, nil
}

func (p *Pool) list(s *slot, dir string) ([]Entry, error) {
	ctl := s.ctl
	if ctl.caps.MLSD {
		all, err := ctl.mlsd(dir)
		if err != nil {
			return nil, err
		}
		out := all[:0]
		for _, e := range all {
			if validName(e.Name) {
				out = append(out, e)
				if !e.Dir && writeOnly(e.Perm) {
					p.noRename.Store(true)
				}
			}
		}
		return out, nil
	}
	raw, err := s.ftp.List(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(raw))
	now := time.Now()
	recent := now.Add(-RecentListed).Truncate(time.Minute)
	// A LIST line gives only the date for files more than six months old
	// and for those dated in the future (ls's rule): a date after that
	// means the server's clock, or the file, is ahead of ours.
	sixMonths := now.AddDate(0, -6, -1)
	asked := 0
	for _, e := range raw {
		if !validName(e.Name) || (e.Type != ftp.EntryTypeFile && e.Type != ftp.EntryTypeFolder) {
			continue
		}
		ent := Entry{
			Name: e.Name, Dir: e.Type == ftp.EntryTypeFolder,
			Size: int64(e.Size), ModTime: e.Time.UTC(), TimePrecision: listPrecision(e.Time),
		}
		ahead := ent.TimePrecision == ListDay && ent.ModTime.After(sixMonths)
		if !ent.Dir && ctl.caps.MDTM && !IsTemp(ent.Name) && (!ent.ModTime.Before(recent) || ahead) && asked < RecentListedMax {
			asked++
			t, err := s.ctl.mdtm(path.Join(dir, ent.Name))
			switch {
			case err == nil:
				ent.ModTime, ent.TimePrecision = t.UTC(), 0
			case !permanentReply(err):
				return nil, err
			} // gone since the listing, or refused: keep what LIST said
		}
		out = append(out, ent)
	}
	return out, nil
}

// RecentListed is how old a file's LIST time may be for List to ask MDTM
// for its time to the second (as it also does for a file dated ahead of
// our clock). A change that keeps a file's size and lands in the minute
// the last sync saw cannot be told from a LIST line; while that minute is
// recent, every listing of the file asks MDTM, so a poll in the window
// sees the change. Older files show any later change as a new minute. The
// window also absorbs a few minutes of difference between the server's
// clock and ours.
const RecentListed = 3 * time.Minute

// RecentListedMax caps the MDTMs of one directory's listing: a directory
// where more files changed in the last RecentListed is in the middle of a
// bulk change (an initial upload, say), and asking for each of them on
// every poll would cost a round trip per file; the rest keep their LIST
// time.
const RecentListedMax = 32

// listPrecision tells how finely a LIST line gave t: "Jan _2 15:04" for
// files of the last six months, "Jan _2  2006" (midnight, as parsed) for
// older ones. A recent file listed at 00:00 is taken as known to the day,
// which only widens the match to the same date.
func listPrecision(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	if h, m, _ := t.UTC().Clock(); h == 0 && m == 0 {
		return ListDay
	}
	return ListMinute
}

// SameTime reports whether a modification time known exactly (from MDTM,
// MLST or a local record) agrees with a listed one of the given
// precision: equal, or within the listed minute or day.
func SameTime(exact, listed time.Time, precision time.Duration) bool {
	if precision <= 0 {
		return exact.Equal(listed)
	}
	return exact.UTC().Truncate(precision).Equal(listed)
}

// Walk lists the tree under root, with one SITE TREE where the server
// offers it (falling back to listing directory by directory when the
// server could not list the whole tree), else spreading directories over
// the pool's connections, and returns every entry keyed by its slash path relative to
// root. Our temporaries are never included. skip (may be nil) is asked
// about every other entry; a skipped directory is not descended into. Any
// directory that cannot be listed fails the whole walk: a partial tree
// would look like deletions to the caller.
//
// skip is called from one goroutine at a time.
func (p *Pool) Walk(ctx context.Context, root string, skip func(rel string, e Entry) bool) (map[string]Entry, error) {
	if err := checkPath(root); err != nil {
		return nil, err
	}
	return p.walk(ctx, root, skip, false)
}

// WalkWithTemps is Walk that also returns the temporaries (TempPrefix
// names) it saw, keyed by their slash path relative to root; a temporary
// directory is not descended into. skip is not asked about them.
func (p *Pool) WalkWithTemps(ctx context.Context, root string, skip func(rel string, e Entry) bool) (entries, temps map[string]Entry, err error) {
	entries = make(map[string]Entry)
	temps, err = p.WalkEach(ctx, root, skip, func(rel string, e Entry) { entries[rel] = e }, func() { clear(entries) })
	if err != nil {
		return nil, nil, err
	}
	return entries, temps, nil
}

// WalkEach is WalkWithTemps handing every entry it would return to add,
// from one goroutine at a time and parents before their contents, rather
// than keeping them in a map: a caller that keeps entries in a form of
// its own does not hold both. When an incomplete tree listing makes the
// walk start again directory by directory, reset is called first: the
// caller drops what add was given. On error, what add was given must be
// discarded.
func (p *Pool) WalkEach(ctx context.Context, root string, skip func(rel string, e Entry) bool,
	add func(rel string, e Entry), reset func()) (temps map[string]Entry, err error) {
	if err := checkPath(root); err != nil {
		return nil, err
	}
	temps = make(map[string]Entry)
	err = p.walkEach(ctx, root, func(rel string, e Entry) bool {
		if IsTemp(e.Name) {
			temps[rel] = e
			return true
		}
		return skip != nil && skip(rel, e)
	}, true, add, reset)
	if err != nil {
		return nil, err
	}
	return temps, nil
}

func (p *Pool) walk(ctx context.Context, root string, skip func(string, Entry) bool, keepTemps bool) (map[string]Entry, error) {
	out := make(map[string]Entry)
	err := p.walkEach(ctx, root, skip, keepTemps, func(rel string, e Entry) { out[rel] = e }, func() { clear(out) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (p *Pool) walkEach(ctx context.Context, root string, skip func(string, Entry) bool, keepTemps bool,
	add func(string, Entry), reset func()) error {
	if c, err := p.Caps(ctx); err == nil && c.Tree {
		err := p.treeWalkEach(ctx, root, skip, keepTemps, add)
		if !errors.Is(err, ErrTreeIncomplete) {
			return err
		}
		reset()
	}
	return p.dirWalkEach(ctx, root, skip, keepTemps, add)
}

// dirWalkEach is walkEach with one listing per directory.
func (p *Pool) dirWalkEach(ctx context.Context, root string, skip func(string, Entry) bool, keepTemps bool, add func(string, Entry)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &walker{p: p, root: root, skip: skip, keepTemps: keepTemps, add: add, cancel: cancel}
	w.cond = sync.NewCond(&w.mu)
	w.queue = []string{""}
	var wg sync.WaitGroup
	for range p.cfg.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.work(ctx)
		}()
	}
	wg.Wait()
	return w.err
}

// walker is the shared state of one Walk: a queue of directories still to
// list (relative paths), the number being listed, and where the result
// goes (add, called under mu).
type walker struct {
	p         *Pool
	root      string
	skip      func(string, Entry) bool
	keepTemps bool
	cancel    context.CancelFunc

	mu     sync.Mutex
	cond   *sync.Cond
	queue  []string
	active int
	add    func(string, Entry)
	err    error
}

func (w *walker) work(ctx context.Context) {
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && w.active > 0 && w.err == nil {
			w.cond.Wait()
		}
		if w.err != nil || len(w.queue) == 0 {
			w.mu.Unlock()
			w.cond.Broadcast()
			return
		}
		rel := w.queue[len(w.queue)-1]
		w.queue = w.queue[:len(w.queue)-1]
		w.active++
		w.mu.Unlock()

		entries, err := w.p.List(ctx, path.Join(w.root, rel))

		w.mu.Lock()
		w.active--
		if err != nil && w.err == nil {
			w.err = err
			w.cancel()
		}
		for _, e := range entries {
			if IsTemp(e.Name) && !w.keepTemps {
				continue
			}
			r := path.Join(rel, e.Name)
			if w.skip != nil && w.skip(r, e) {
				continue
			}
			w.add(r, e)
			if e.Dir {
				w.queue = append(w.queue, r)
			}
		}
		w.mu.Unlock()
		w.cond.Broadcast()
	}
}
