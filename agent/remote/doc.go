// Package remote is the agent's FTP client layer: a pool of logged-in
// connections to one server, and the operations the sync engine needs on top
// of it (listing and walking a tree, verified atomic uploads and downloads,
// renames, deletes, remote hashes, cleaning up stale temporaries).
//
// Each pooled connection is one control connection and one login: a
// net/textproto session of our own sends every command (FEAT, HASH, MLSD,
// MLST, SITE, uploads, renames, deletes), and a github.com/jlaffaye/ftp
// ServerConn made on that same connection does LIST (its parser knows the
// many LIST formats) and downloads. Uploads do not go through jlaffaye/ftp,
// because each of its calls sends one command and waits for its reply:
// ours send commands that do not depend on one another's outcome in one
// write (see ctrlSession.send), so that an upload costs its STOR's round
// trips and two more (see check and place), and a batch of uploads two
// more in all (see storBatch). Every byte goes through a net.Conn wrapper that applies an
// idle deadline (Config.OpTimeout) to each read and write and that the
// pool can close from outside, so a server that stops answering, or a
// cancelled context, fails the operation instead of hanging it, and the
// connection is replaced.
//
// The package performs no retries: every error is classified (IsTransient)
// and the caller retries with Backoff. It knows nothing about sync state,
// ignore rules or local trees beyond the one file it transfers.
package remote
