package server

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"net"
	"strings"

	"github.com/syncagent/syncagent/server/ftpfs"
)

// listChunk is how many directory entries a listing reads at a time: a
// listing holds at most this many, whatever the directory's size.
const listChunk = 256

// dirLister is a directory being listed chunk by chunk. Next returns some
// entries (possibly none) and io.EOF at the end. Used by one goroutine.
type dirLister interface {
	Next(n int) ([]fs.FileInfo, error)
	Close() error
}

// sliceLister lists entries already in memory: a file listed by name, or
// a directory of the version store (read whole and sorted, so versions
// come oldest first).
type sliceLister struct{ list []fs.FileInfo }

func (l *sliceLister) Next(n int) ([]fs.FileInfo, error) {
	k := min(max(n, 1), len(l.list))
	out := l.list[:k]
	l.list = l.list[k:]
	if len(l.list) == 0 {
		return out, io.EOF
	}
	return out, nil
}

func (l *sliceLister) Close() error { return nil }

// listable reports whether a name can appear in a listing. A CR or LF
// (which only someone with access to the disk can put in a name: command
// lines cannot carry them) would end the listing line early and let the
// rest of the name pose as another entry with facts of its choosing, so
// such names are left out of every listing (MLSD, LIST, NLST, STAT, SITE
// TREE); no command can name them either.
func listable(name string) bool { return !strings.ContainsAny(name, "\r\n") }

// hiddenDir is a home directory being listed without what the session
// does not show: unlistable names, and at the root the shadowed .versions.
type hiddenDir struct {
	*ftpfs.Dir
	root bool
}

func (h *hiddenDir) Next(n int) ([]fs.FileInfo, error) {
	list, err := h.Dir.Next(n)
	return visible(list, h.root), err
}

// visible drops from list, in place, the entries a listing does not show.
func visible(list []fs.FileInfo, root bool) []fs.FileInfo {
	keep := list[:0]
	for _, fi := range list {
		if listable(fi.Name()) && !(root && shadowed(fi.Name())) {
			keep = append(keep, fi)
		}
	}
	return keep
}

// OpenDir opens the directory p for a chunked listing; under /.versions,
// a directory of the version store.
func (v *sessionFS) OpenDir(p string) (dirLister, error) {
	if _, ok := versionsPath(p); ok {
		list, err := v.ReadDir(p)
		if err != nil {
			return nil, err
		}
		return &sliceLister{list: list}, nil
	}
	d, err := v.FS.OpenDir(p)
	if err != nil {
		return nil, err
	}
	return &hiddenDir{Dir: d, root: p == "/"}, nil
}

// openListing opens what a listing of p shows: the directory's entries,
// or the file itself when p is a file and files are allowed (LIST, NLST).
func (s *session) openListing(p string, filesToo bool) (dirLister, error) {
	fi, err := s.fs.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		if !filesToo {
			return nil, errListNotDir
		}
		return &sliceLister{list: []fs.FileInfo{fi}}, nil
	}
	return s.fs.OpenDir(p)
}

// errListNotDir is MLSD of a file.
var errListNotDir = errors.New("not a directory")

// sendListing runs a listing transfer that writes one line per entry of d
// with line, reading d a chunk at a time; listings are always sent in
// ASCII with CRLF line ends, as RFC 959 and RFC 3659 want. It closes d.
func (s *session) sendListing(verb, p string, d dirLister, line func(w *bufio.Writer, fi fs.FileInfo)) {
	s.startTransfer(verb, p, "Opening ASCII mode data connection for "+verb+".", func(x *transfer, c net.Conn) (int, string) {
		defer d.Close()
		if c == nil {
			return codeTransferAborted, ""
		}
		c.SetDeadline(deadlineFrom(s.srv.dataTimeout()))
		w := bufio.NewWriterSize(&countWriter{w: c, n: &x.bytes}, 32<<10)
		err := writeListing(w, d, line)
		if ferr := w.Flush(); err == nil && ferr != nil {
			err = errListingWrite
		}
		switch {
		case err == nil:
			return codeTransferComplete, "Transfer complete."
		case errors.Is(err, errListingWrite) || x.aborted.Load():
			return codeTransferAborted, "Transfer aborted: data connection failed."
		default:
			s.log.Info("listing: directory read failed", "verb", verb, "path", p, "err", err)
			return codeLocalError, "Cannot read the directory; the listing is incomplete."
		}
	})
}

// errListingWrite marks a listing stopped by a failed data connection.
var errListingWrite = errors.New("listing write failed")

// writeListing writes a line per entry of d, one chunk of entries at a
// time, flushing after each chunk so a dead data connection stops it.
func writeListing(w *bufio.Writer, d dirLister, line func(w *bufio.Writer, fi fs.FileInfo)) error {
	for {
		chunk, err := d.Next(listChunk)
		for _, fi := range chunk {
			line(w, fi)
		}
		if w.Buffered() > 0 && w.Flush() != nil {
			return errListingWrite
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
