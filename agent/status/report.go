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
	// State is idle, scanning, syncing or error.
	State       string     `json:"state"`
	FilesQueued int        `json:"files_queued"`
	BytesQueued int64      `json:"bytes_queued"`
	Transfers   []Transfer `json:"transfers"`
	LastSync    time.Time  `json:"last_sync,omitzero"`
	LastError   string     `json:"last_error,omitempty"`
	Conflicts   int        `json:"conflicts"`
	Uploaded    int64      `json:"files_uploaded"`
	Downloaded  int64      `json:"files_downloaded"`
	Problems    []string   `json:"problems,omitempty"`
}

// Transfer is one upload or download in flight.
type Transfer struct {
	Path string `json:"path"`
	// Direction is "upload" or "download".
	Direction string `json:"direction"`
	Size      int64  `json:"size"`
	Done      int64  `json:"done"`
}

// Server is what the agent knows of one configured FTP server.
type Server struct {
	Name      string `json:"name"`
	Address   string `json:"address"`
	Connected bool   `json:"connected"`
	// Caps lists the capabilities found among MLSD, HASH, MFMT and TLS.
	Caps  []string `json:"caps"`
	Error string   `json:"error,omitempty"`
}

// Source produces a Report. Implementations must be safe for concurrent
// use: the handler calls Report from its request goroutines, and should
// return promptly once ctx is done.
type Source interface {
	Report(ctx context.Context) Report
}
