package plan

import (
	"fmt"
	"time"
)

// Mode is the direction of a folder's sync.
type Mode int

const (
	// Push makes the remote folder a mirror of the local one.
	Push Mode = iota + 1
	// Pull makes the local folder a mirror of the remote one.
	Pull
	// TwoWay applies changes from either side, merging against the base.
	TwoWay
)

// ParseMode parses the config spelling of a mode: "push", "pull" or
// "two-way".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "push":
		return Push, nil
	case "pull":
		return Pull, nil
	case "two-way":
		return TwoWay, nil
	}
	return 0, fmt.Errorf("mode %q: must be push, pull or two-way", s)
}

// String returns the config spelling of m.
func (m Mode) String() string {
	switch m {
	case Push:
		return "push"
	case Pull:
		return "pull"
	case TwoWay:
		return "two-way"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Side is what one side (the local disk or the server) has at a path now.
// Hash is meaningful only when HashKnown; ID is the remote's MLSD "unique"
// fact when the server gives one (empty otherwise, and always for local).
type Side struct {
	Exists    bool
	Dir       bool
	Size      int64
	MTime     time.Time
	Hash      [32]byte
	HashKnown bool
	ID        string
}

// Base is what was last synced at a path (the syncstate entry): the local
// file's size and mtime at that time, the content hash both sides had (zero
// for directories, or when unknown), and the remote's size, mtime and ID.
type Base struct {
	Exists      bool
	Dir         bool
	Size        int64
	MTime       time.Time
	Hash        [32]byte
	RemoteSize  int64
	RemoteMTime time.Time
	RemoteID    string
}

// Item is everything the planner knows about one path.
type Item struct {
	// Path is slash-separated, relative to the folder root.
	Path   string
	Local  Side
	Remote Side
	Base   Base
}

// Kind is what to do with a path.
type Kind int

const (
	// Nothing: both sides and the base agree.
	Nothing Kind = iota
	// Upload the local file over the remote path.
	Upload
	// Download the remote file over the local path.
	Download
	// DeleteLocal removes the local path.
	DeleteLocal
	// DeleteRemote removes the remote path.
	DeleteRemote
	// MkdirLocal creates the local directory.
	MkdirLocal
	// MkdirRemote creates the remote directory.
	MkdirRemote
	// RenameLocal renames the local Path to To.
	RenameLocal
	// RenameRemote renames the remote Path to To.
	RenameRemote
	// Conflict: both sides changed differently. The local content moves to
	// ConflictName(Path, now, agent) and the remote content takes the path.
	Conflict
	// Compare: both sides are files of the same size whose hashes are not
	// both known; fetch them and decide again.
	Compare
	// RecordOnly: both sides already agree but the base is stale; store it.
	RecordOnly
	// Forget: the path is gone from both sides; drop its base.
	Forget
)

var kindNames = [...]string{
	Nothing: "nothing", Upload: "upload", Download: "download",
	DeleteLocal: "delete-local", DeleteRemote: "delete-remote",
	MkdirLocal: "mkdir-local", MkdirRemote: "mkdir-remote",
	RenameLocal: "rename-local", RenameRemote: "rename-remote",
	Conflict: "conflict", Compare: "compare", RecordOnly: "record", Forget: "forget",
}

// String returns a short lowercase name for k, as used in logs.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Place names one side of a folder.
type Place int

const (
	// Local is the folder on this machine.
	Local Place = iota
	// Remote is the folder on the server.
	Remote
)

// Action is one step of a plan.
type Action struct {
	Kind Kind
	Path string
	// To is the new path of a rename.
	To string
	// Reason says why, for logs and -dry-run output.
	Reason string
}

// String formats a for logs: "upload a/b.txt (changed locally)".
func (a Action) String() string {
	s := a.Kind.String() + " " + a.Path
	if a.To != "" {
		s += " -> " + a.To
	}
	if a.Reason != "" {
		s += " (" + a.Reason + ")"
	}
	return s
}
