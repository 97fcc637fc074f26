package crashpoint

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// EnvVar names the environment variable read once, at the first Hit:
// "NAME:N" makes the process kill itself (SIGKILL on Unix, TerminateProcess
// on Windows) when it reaches the step NAME for the Nth time; ":N" may be
// left out for the first time.
const EnvVar = "SYNCAGENT_CRASHPOINT"

// Step names, in the order an upload, a download, a rename and a delete
// reach them.
const (
	UploadStart     = "upload.start"     // before the data transfer
	UploadSent      = "upload.sent"      // data sent and verified, before the remote rename
	UploadRenamed   = "upload.renamed"   // after the remote rename, before the state write
	UploadSaved     = "upload.saved"     // after the state write
	DownloadStart   = "download.start"   // before the data transfer
	DownloadFetched = "download.fetched" // data received into the local temporary, before its rename
	DownloadRenamed = "download.renamed" // after the local rename, before the state write
	DownloadSaved   = "download.saved"   // after the state write
	RenameStart     = "rename.start"     // before the remote rename
	RenameDone      = "rename.done"      // after the remote rename, before the state write
	RenameSaved     = "rename.saved"     // after the state write
	DeleteStart     = "delete.start"     // before the remote delete
	DeleteDone      = "delete.done"      // after the remote delete, before the state write
	DeleteSaved     = "delete.saved"     // after the state write
)

var (
	once   sync.Once
	target string
	at     int64
	hits   atomic.Int64
)

func load() {
	v := os.Getenv(EnvVar)
	if v == "" {
		return
	}
	name, n, _ := strings.Cut(v, ":")
	at = 1
	if k, err := strconv.ParseInt(n, 10, 64); err == nil && k > 0 {
		at = k
	}
	target = name
}

// Hit marks that the process reached step name. It is safe for concurrent
// use and returns at once unless EnvVar names this step and this is the
// chosen occurrence, in which case it does not return.
func Hit(name string) {
	once.Do(load)
	if target == "" || name != target || hits.Add(1) != at {
		return
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Kill()
	}
	select {} // the kill is asynchronous: never go on past the step
}
