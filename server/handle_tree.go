package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path"
	"strings"
)

// SITE TREE: a whole directory tree in one listing.
//
// Mirroring a tree with MLSD costs a data connection and a round trip per
// directory, which dominates for trees of many small directories. After
// EPSV/PASV (or PORT), the client sends "SITE TREE [path]" (path defaults
// to the working directory and is resolved like MLSD's); the server
// answers 150 and writes on the data connection one MLSD line per entry
// below path, recursively, depth first (a directory's line comes before
// the lines of its contents):
//
//	type=dir;size=4096;modify=20240101120000.000;unique=...;perm=...; docs
//	type=file;size=12;modify=20240101120000.000;unique=...;perm=...; docs/a.txt
//
// Each name is the slash-separated path relative to path; the facts are
// those MLSD sends in the session (OPTS MLST applies). Like MLSD, entries
// are described without following symbolic links: a link is listed as
// MLSD lists it (type=file, the link's own facts) and never descended
// into, so the listing cannot leave the home, and what MLSD hides (the
// server's own data, the real ".versions" at the root of a home) is hidden
// here too. A tree rooted under /.versions lists the version store, as
// MLSD would.
//
// The final reply is 226 when every directory was listed. A directory that
// cannot be read, or one deeper than treeMaxDepth below path, ends the
// listing with 451 naming it: the lines sent so far are not the whole tree
// and a client must not take missing entries as deleted (it can list the
// tree with MLSD instead, which names the failing directory with its own
// reply). ABOR or a closed data connection stops the listing with 426.
const treeMaxDepth = 256

var (
	// errTreeTooDeep marks a tree that goes deeper than treeMaxDepth.
	errTreeTooDeep = errors.New("tree deeper than the limit")
	// errTreeStopped marks a listing stopped by ABOR or a failed data
	// connection.
	errTreeStopped = errors.New("tree listing stopped")
)

// handleTree runs the SITE TREE subcommand.
func (s *session) handleTree(arg string) {
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	fi, err := s.fs.Stat(p)
	if err != nil {
		s.replyError("site tree", err)
		return
	}
	if !fi.IsDir() {
		s.reply(codeParamSyntax, "SITE TREE needs a directory.")
		return
	}
	s.startTransfer("SITE TREE", p, "Opening ASCII mode data connection for SITE TREE.", func(x *transfer, c net.Conn) (int, string) {
		if c == nil {
			return codeTransferAborted, ""
		}
		dw := &deadlineWriter{c: newProgressConn(c, s.srv.dataTimeout())}
		t := &treeRun{s: s, x: x, dw: dw, w: bufio.NewWriterSize(&countWriter{w: dw, n: &x.bytes}, 32<<10)}
		err := t.dir(p, "", 0)
		t.w.Flush() // an incomplete tree too: the client sees how far it got
		if err == nil {
			err = t.dw.err
		}
		switch {
		case err == nil:
			return codeTransferComplete, fmt.Sprintf("Tree complete: %d entries.", t.n)
		case errors.Is(err, errTreeStopped) || x.aborted.Load():
			return codeTransferAborted, "Transfer aborted: data connection failed."
		case errors.Is(err, errTreeTooDeep):
			return codeLocalError, fmt.Sprintf("Tree deeper than %d levels at %s; list it with MLSD.", treeMaxDepth, replyName(t.failed))
		default:
			s.log.Info("site tree: directory unreadable", "path", path.Join(p, t.failed), "err", err)
			return codeLocalError, "Cannot read directory " + replyName(t.failed) + "; the tree is incomplete."
		}
	})
}

// treeRun is one SITE TREE listing, run by the transfer's goroutine.
type treeRun struct {
	s      *session
	x      *transfer
	dw     *deadlineWriter
	w      *bufio.Writer
	n      int    // entries written
	failed string // the directory (relative) that ended the listing
}

// dir lists the directory abs (rel below the tree's root, depth levels
// down), a chunk of entries at a time, descending into each directory
// right after its line, depth first. It holds one chunk per level.
func (t *treeRun) dir(abs, rel string, depth int) error {
	if t.x.aborted.Load() || t.dw.err != nil {
		return errTreeStopped
	}
	d, err := t.s.fs.OpenDir(abs)
	if err == nil && treeReadDirHook != nil {
		if err = treeReadDirHook(abs); err != nil {
			d.Close()
		}
	}
	if err != nil {
		t.failed = rel
		return err
	}
	defer d.Close()
	for {
		list, err := d.Next(listChunk)
		if len(list) > 0 && depth >= treeMaxDepth {
			t.failed = rel
			return errTreeTooDeep
		}
		for _, fi := range list {
			if err := t.entry(fi, abs, rel, depth); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			t.failed = rel
			return err
		}
	}
}

// entry writes the line of fi, found in the directory abs, and lists it
// when it is a directory.
func (t *treeRun) entry(fi fs.FileInfo, abs, rel string, depth int) error {
	name := fi.Name()
	if rel != "" {
		name = rel + "/" + name
	}
	t.s.writeFacts(t.w, fi, "", name)
	t.n++
	// Lstat semantics: only a real directory is descended into.
	if fi.Mode().Type() == fs.ModeDir {
		return t.dir(path.Join(abs, fi.Name()), name, depth+1)
	}
	return nil
}

// replyName makes a relative directory path safe and short for a reply
// line: "." for the tree's root, control characters replaced.
func replyName(rel string) string {
	if rel == "" {
		rel = "."
	}
	if len(rel) > 512 {
		rel = rel[:512] + "..."
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, rel) + `"`
}

// treeReadDirHook, when set by a test, can fail the listing of a
// directory: a test running as root cannot make one unreadable.
var treeReadDirHook func(vpath string) error

// deadlineWriter writes a listing to a data connection whose deadline
// follows progress (progressConn). It keeps the first write error, which
// ends the listing.
type deadlineWriter struct {
	c   *progressConn
	err error
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.c.Write(p)
	if err != nil {
		w.err = fmt.Errorf("%w: %w", errTreeStopped, err)
	}
	return n, w.err
}
