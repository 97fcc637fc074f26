package status

import (
	"context"
	"time"
)

// Report is the JSON document served at GET /status.
type Report struct {
	Time    time.Time `json:"time"`
	Folders []Folder  `json:"folders"`
	Servers []Server  `json:"servers"`
}

// Folder is the state of one synced folder.
type Folder struct {
	Name string `json:"name"`
	// Path is the local folder; Server and Remote the folder it is kept
	// in sync with; Mode is push, pull or two-way.
	Path   string `json:"path"`
	Mode   string `json:"mode"`
	Server string `json:"server"`
	Remote string `json:"remote"`
	// State is idle, scanning, syncing or error.
	State       string     `json:"state"`
	FilesQueued int        `json:"files_queued"`
	BytesQueued int64      `json:"bytes_queued"`
	Transfers   []Transfer `json:"transfers"`
	LastSync    time.Time  `json:"last_sync,omitzero"`
	LastError   string     `json:"last_error,omitempty"`
	// Watcher says why the folder is not watched for changes, if it is
	// not; polls and rescans go on meanwhile.
	Watcher string `json:"watcher,omitempty"`
	// Conflicts counts the conflicts met since the agent started;
	// ConflictCopies are the conflict copies in the folder now.
	Conflicts      int            `json:"conflicts"`
	ConflictCopies []ConflictCopy `json:"conflict_copies"`
	Uploaded       int64          `json:"files_uploaded"`
	Downloaded     int64          `json:"files_downloaded"`
	// Problems are the paths the last pass could not sync, with why;
	// they are tried again on every pass.
	Problems []PathError `json:"problems"`
	// Skipped are the entries never synced because of what they are
	// (symbolic links, FIFOs, sockets, devices).
	Skipped []Skipped `json:"skipped"`
}

// PathError is a path that failed and its error.
type PathError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Skipped is a path left out of sync because of its kind.
type Skipped struct {
	Path string `json:"path"`
	// Kind is "symlink", "fifo", "socket" or "device".
	Kind string `json:"kind"`
}

// ConflictCopy is a file NAME.sync-conflict-YYYYMMDD-HHMMSS[-AGENTID].EXT
// kept when both sides changed NAME.
type ConflictCopy struct {
	// Path is the copy, Original the path it is a copy of, both relative
	// to the folder with slashes.
	Path     string `json:"path"`
	Original string `json:"original"`
	// Time is when the conflict was found (from the name); Agent the id
	// of the agent that made the copy, where the name has one.
	Time  time.Time `json:"time"`
	Agent string    `json:"agent,omitempty"`
	Size  int64     `json:"size"`
}

// Transfer is one upload or download in flight.
type Transfer struct {
	Path string `json:"path"`
	// Direction is "upload" or "download".
	Direction string `json:"direction"`
	Size      int64  `json:"size"`
	Done      int64  `json:"done"`
	// Rate is the average speed so far in bytes per second, and ETA the
	// time left at that speed (0 when unknown).
	Rate       float64 `json:"rate_bytes_per_second"`
	ETASeconds float64 `json:"eta_seconds"`
}

// Server is what the agent knows of one configured FTP server.
type Server struct {
	Name      string `json:"name"`
	Address   string `json:"address"`
	Connected bool   `json:"connected"`
	// Caps lists the capabilities the agent uses with this server: MLSD,
	// HASH, MFMT, REST, BATCH, TREE, EXPECT, and TLS (explicit or
	// implicit) when the connection is encrypted.
	Caps []string `json:"caps"`
	// BWLimit is the bandwidth limit in force ("" for none).
	BWLimit string `json:"bwlimit,omitempty"`
	// Error is why the server cannot be used, while it cannot.
	Error string `json:"error,omitempty"`
}

// Source produces a Report. Implementations must be safe for concurrent
// use: the handler calls Report from its request goroutines, and should
// return promptly once ctx is done.
type Source interface {
	Report(ctx context.Context) Report
}
