// Package syncstate is the agent's bbolt database: for each folder and path,
// what was last synced on both sides (local size, mtime and SHA-256; remote
// size, modify time and MLSD unique ID; whether it is a directory). It is the
// merge base of two-way sync and the memory that lets a killed agent resume
// without forgetting changes.
//
// It owns the file format, its schema migrations and the single-writer lock;
// it does not decide anything about syncing. Open returns a *DB safe for use
// by many goroutines.
//
// # Durability
//
// Writes are queued in memory (reads see them at once) and committed in
// batches, one bbolt transaction and one fsync each, in the order they were
// made. The agent records a path only after the remote side is confirmed
// (the upload renamed into place, the delete done). A crash therefore loses
// at most the newest writes, leaving records older than the truth on both
// sides, never newer: the agent sees a difference and re-checks the path,
// rather than believing a change was synced when it was not. Flush waits
// until everything queued is on disk.
//
// # File layout
//
// Bucket "folders" holds one bucket per folder, keyed by slash-separated
// path, whose values are a compact binary encoding (an encoding byte, flags,
// varints). Bucket "meta" holds "schema", the layout version, as decimal
// text; bucket "kv" holds the values of SetMeta; bucket "walks" holds one
// bucket per folder of WalkRecords (SetWalks), keyed by "/" and the remote
// directory, written in transactions of their own. Open upgrades older layouts
// through the migrations table in one transaction and refuses a file from a
// newer syncagent.
//
// Only one process may use a state file: a second Open fails with ErrLocked
// after Options.Timeout. bbolt's lock is per open file, so this holds within
// one process too.
package syncstate
