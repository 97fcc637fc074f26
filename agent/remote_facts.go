package agent

import (
	"strings"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
)

// remoteFacts is how the agent keeps one entry of the remote listing
// between passes: what planning and the walk cache read of a
// remote.Entry, in 40 bytes rather than 88. The name is the last element
// of the path the listing keys it by, so it is not kept; the modify time
// is seconds and nanoseconds (a time.Time is 24 bytes with its
// *Location); the perm fact, which only package remote reads, is
// dropped. For 100,000 paths the listing's map holds 7 MB less.
type remoteFacts struct {
	Size int64
	sec  int64 // ModTime's Unix seconds
	ID   string
	nsec int32 // ModTime's nanoseconds
	Dir  bool
	prec precision // how finely the modify time is known
}

// precision is remote.Entry's TimePrecision in one byte.
type precision uint8

const (
	exactTime  precision = iota // MLSD, MLST: to the second or better
	listMinute                  // a LIST line's "Jan _2 15:04"
	listDay                     // a LIST line's "Jan _2  2006"
)

func precisionOf(d time.Duration) precision {
	switch {
	case d <= 0:
		return exactTime
	case d <= remote.ListMinute:
		return listMinute
	}
	return listDay
}

// duration is p as remote.Entry's TimePrecision.
func (p precision) duration() time.Duration {
	switch p {
	case listMinute:
		return remote.ListMinute
	case listDay:
		return remote.ListDay
	}
	return 0
}

// factsOf returns what the agent keeps of e.
func factsOf(e remote.Entry) remoteFacts {
	return remoteFacts{Size: e.Size, sec: e.ModTime.Unix(), ID: e.ID, nsec: int32(e.ModTime.Nanosecond()), Dir: e.Dir,
		prec: precisionOf(e.TimePrecision)}
}

// modTime returns the entry's modify time in UTC (zero when the server
// gave none, as in the remote.Entry it came from).
func (r remoteFacts) modTime() time.Time {
	return time.Unix(r.sec, int64(r.nsec)).UTC()
}

// entry returns the remote.Entry at path rel that r was made from, less
// its perm fact. Its name is a substring of rel.
func (r remoteFacts) entry(rel string) remote.Entry {
	return remote.Entry{Name: rel[strings.LastIndexByte(rel, '/')+1:], Dir: r.Dir, Size: r.Size, ModTime: r.modTime(), ID: r.ID,
		TimePrecision: r.prec.duration()}
}
