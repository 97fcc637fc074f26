// Package plan is the sync planner: a pure function from what a path looks
// like locally, remotely and when it was last synced to the one action that
// brings both sides together, plus the helpers that turn many such decisions
// into an executable, ordered Plan.
//
// The package does no I/O and keeps no state; every function is safe for
// concurrent use. Scanning, listing, hashing, persisting the base and
// performing actions belong to the caller (package agent and syncstate).
//
// Contract with the executor, per action kind:
//   - Upload / Download make the path a file on the target side with the
//     source's content, via a temporary name renamed into place.
//   - MkdirRemote / MkdirLocal create the directory.
//   - DeleteRemote / DeleteLocal remove the path (a directory only once its
//     children are gone: Build orders children first).
//   - RenameRemote / RenameLocal rename Path to To on that side.
//   - Conflict moves the local path aside to ConflictName(Path, now, agent), then
//     makes the local path what the remote has (download or mkdir).
//   - Compare asks for the missing content hash(es) (HASH command, or a
//     download to hash), then for a new Decide.
//   - RecordOnly stores the current state as the new base; Forget drops it.
//
// After any action that leaves both sides equal, the executor records the
// new base; after a delete of a path absent on the other side, it forgets it.
package plan
