package syncstate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Entry is what was last synced for one path of a folder: the local file as
// it was when the sync was confirmed and the remote file it was confirmed
// against. An Entry is a plain value; copies are independent.
type Entry struct {
	// Path is slash-separated and relative to the folder root, e.g. "a/b.txt".
	Path string
	// Dir is true for a directory; Size and Hash are then zero.
	Dir bool
	// Size is the local size in bytes.
	Size int64
	// MTime is the local modification time, kept to the nanosecond.
	// Times come back in UTC; compare them with time.Time.Equal.
	MTime time.Time
	// Hash is the SHA-256 of the content (zero for directories).
	Hash [32]byte
	// RemoteSize is the size the server reported.
	RemoteSize int64
	// RemoteMTime is the modify time the server reported.
	RemoteMTime time.Time
	// RemoteID is the MLSD "unique" fact when the server gives one.
	RemoteID string
}

// Equal reports whether e and o describe the same synced state, comparing
// times with time.Time.Equal.
func (e Entry) Equal(o Entry) bool {
	return e.Path == o.Path && e.Dir == o.Dir && e.Size == o.Size &&
		e.MTime.Equal(o.MTime) && e.Hash == o.Hash &&
		e.RemoteSize == o.RemoteSize && e.RemoteMTime.Equal(o.RemoteMTime) &&
		e.RemoteID == o.RemoteID
}

// entryEncoding is the first byte of every stored value. A later layout
// gets a new number, and a migration rewrites the old values.
const entryEncoding = 1

// Flag bits of the second byte of a stored value.
const (
	flagDir = 1 << iota
	flagMTime
	flagRemoteMTime
	flagHash
	flagRemoteID
)

// maxKeySize is bbolt's limit on key length.
const maxKeySize = 32768

// errCorrupt marks a stored value that cannot be decoded.
var errCorrupt = errors.New("corrupt entry")

// appendEntry appends the binary form of e (without its path, which is the
// key) to buf. Layout: encoding byte, flags byte, then varints for the sizes
// and times (seconds and nanoseconds apart, so any year fits), the hash when
// non-zero, and the remote ID when non-empty.
func appendEntry(buf []byte, e Entry) []byte {
	var flags byte
	if e.Dir {
		flags |= flagDir
	}
	if !e.MTime.IsZero() {
		flags |= flagMTime
	}
	if !e.RemoteMTime.IsZero() {
		flags |= flagRemoteMTime
	}
	if e.Hash != ([32]byte{}) {
		flags |= flagHash
	}
	if e.RemoteID != "" {
		flags |= flagRemoteID
	}
	buf = append(buf, entryEncoding, flags)
	buf = binary.AppendVarint(buf, e.Size)
	if flags&flagMTime != 0 {
		buf = appendTime(buf, e.MTime)
	}
	if flags&flagHash != 0 {
		buf = append(buf, e.Hash[:]...)
	}
	buf = binary.AppendVarint(buf, e.RemoteSize)
	if flags&flagRemoteMTime != 0 {
		buf = appendTime(buf, e.RemoteMTime)
	}
	if flags&flagRemoteID != 0 {
		buf = binary.AppendUvarint(buf, uint64(len(e.RemoteID)))
		buf = append(buf, e.RemoteID...)
	}
	return buf
}

func appendTime(buf []byte, t time.Time) []byte {
	buf = binary.AppendVarint(buf, t.Unix())
	return binary.AppendUvarint(buf, uint64(t.Nanosecond()))
}

// decodeEntry parses a value written by appendEntry. It does not keep a
// reference to v, which belongs to bbolt's mmap.
func decodeEntry(path string, v []byte) (Entry, error) {
	d := decoder{b: v}
	e := Entry{Path: path}
	if d.byte() != entryEncoding {
		return Entry{}, fmt.Errorf("decode %q: %w: unknown encoding", path, errCorrupt)
	}
	flags := d.byte()
	e.Dir = flags&flagDir != 0
	e.Size = d.varint()
	if flags&flagMTime != 0 {
		e.MTime = d.time()
	}
	if flags&flagHash != 0 {
		if len(d.b) < len(e.Hash) {
			d.bad = true
		} else {
			copy(e.Hash[:], d.b)
			d.b = d.b[len(e.Hash):]
		}
	}
	e.RemoteSize = d.varint()
	if flags&flagRemoteMTime != 0 {
		e.RemoteMTime = d.time()
	}
	if flags&flagRemoteID != 0 {
		n := d.uvarint()
		if n > uint64(len(d.b)) {
			d.bad = true
		} else {
			e.RemoteID = string(d.b[:n])
			d.b = d.b[n:]
		}
	}
	if d.bad || len(d.b) != 0 {
		return Entry{}, fmt.Errorf("decode %q: %w", path, errCorrupt)
	}
	return e, nil
}

// decoder reads the fields of a stored value; any short or malformed field
// sets bad and yields zero values from then on.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) byte() byte {
	if d.bad || len(d.b) == 0 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	if d.bad {
		return 0
	}
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.bad = true
	}
	if d.bad {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// checkPath rejects paths that are not clean, relative, slash-separated
// names: empty, absolute, with a trailing slash, a NUL, or empty, "." or ".."
// elements. Rejecting them keeps "a" and "a/" from naming the same file
// and makes prefix deletes exact.
func checkPath(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	if len(p) > maxKeySize {
		return fmt.Errorf("path too long (%d bytes)", len(p))
	}
	if strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("path %q contains NUL", p)
	}
	for el := range strings.SplitSeq(p, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("path %q is not clean and relative", p)
		}
	}
	return nil
}

// checkFolder rejects folder names bbolt cannot store.
func checkFolder(f string) error {
	if f == "" {
		return errors.New("empty folder name")
	}
	if len(f) > maxKeySize {
		return fmt.Errorf("folder name too long (%d bytes)", len(f))
	}
	return nil
}
