// Package remote is the agent's FTP client layer: a pool of logged-in
// connections to one server, and the operations the sync engine needs on top
// of it (listing and walking a tree, verified atomic uploads and downloads,
// renames, deletes, remote hashes, cleaning up stale temporaries).
//
// Transfers and plain LIST go through github.com/jlaffaye/ftp. Because that
// library cannot send custom commands and drops the MLSD "unique" fact, each
// pooled connection also has a small net/textproto control session of its
// own for FEAT, HASH, MLSD and MLST. Every byte on
// either goes through a net.Conn wrapper that applies an idle deadline
// (Config.OpTimeout) to each read and write and that the pool can close from
// outside, so a server that stops answering, or a cancelled context, fails
// the operation instead of hanging it, and the connection is replaced.
//
// The package performs no retries: every error is classified (IsTransient)
// and the caller retries with Backoff. It knows nothing about sync state,
// ignore rules or local trees beyond the one file it transfers.
package remote
