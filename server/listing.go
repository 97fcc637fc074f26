package server

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// mlstFacts are the RFC 3659 facts the server can send, in FEAT order.
var mlstFacts = []string{"type", "size", "modify", "unique", "perm"}

func defaultFacts() map[string]bool {
	m := make(map[string]bool, len(mlstFacts))
	for _, f := range mlstFacts {
		m[f] = true
	}
	return m
}

// setFacts applies "OPTS MLST fact;fact;" (RFC 3659 7.9): unknown facts are
// ignored, an empty list turns every fact off.
func (s *session) setFacts(list string) {
	m := make(map[string]bool)
	for _, f := range strings.Split(strings.ToLower(strings.TrimSpace(list)), ";") {
		for _, known := range mlstFacts {
			if f == known {
				m[f] = true
			}
		}
	}
	s.facts = m
}

// factList returns the enabled facts as "type;size;" for the OPTS reply.
func (s *session) factList() string {
	var b strings.Builder
	for _, f := range mlstFacts {
		if s.facts[f] {
			b.WriteString(f + ";")
		}
	}
	return b.String()
}

// writeFacts writes one MLSD/MLST entry: "fact=value;... name\r\n".
// typ overrides the type fact ("cdir" for the listed directory itself).
func (s *session) writeFacts(w *bufio.Writer, fi fs.FileInfo, typ, name string) {
	if typ == "" {
		typ = "file"
		if fi.IsDir() {
			typ = "dir"
		}
	}
	if s.facts["type"] {
		w.WriteString("type=" + typ + ";")
	}
	if s.facts["size"] {
		w.WriteString("size=" + strconv.FormatInt(fi.Size(), 10) + ";")
	}
	if s.facts["modify"] {
		w.WriteString("modify=" + fi.ModTime().UTC().Format("20060102150405.000") + ";")
	}
	if s.facts["unique"] {
		if id := uniqueID(fi); id != "" {
			w.WriteString("unique=" + id + ";")
		}
	}
	if s.facts["perm"] {
		w.WriteString("perm=" + s.permOf(fi) + ";")
	}
	w.WriteString(" " + name + "\r\n")
}

// perm is RFC 3659's perm fact for the logged-in user.
func (s *session) perm(dir bool) string {
	u := s.user
	switch {
	case dir && u.ReadOnly:
		return "el"
	case dir && u.AppendOnly:
		return "celm"
	case dir:
		return "cdeflmp"
	case u.ReadOnly:
		return "r"
	case u.AppendOnly:
		return "arw"
	default:
		return "adfrw"
	}
}

// writeLSLine writes one LIST line in the "ls -l" format that FTP clients parse.
func writeLSLine(w *bufio.Writer, fi fs.FileInfo) {
	mode := "-rw-r--r--"
	if fi.IsDir() {
		mode = "drwxr-xr-x"
	}
	t := fi.ModTime().UTC()
	stamp := t.Format("Jan _2 15:04")
	if age := time.Since(t); age > 180*24*time.Hour || age < -24*time.Hour {
		stamp = t.Format("Jan _2  2006")
	}
	fmt.Fprintf(w, "%s 1 ftp ftp %13d %s %s", mode, fi.Size(), stamp, fi.Name())
}

// countWriter counts what passes through it.
type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func deadlineFrom(d time.Duration) time.Time { return time.Now().Add(d) }
