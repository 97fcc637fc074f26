// Package crashpoint lets the crash-point tests kill a real syncagent
// process at a named step of its work (before or after a data transfer, a
// rename, a state write), to prove that it reaches the right state after a
// restart. It owns nothing else. Unless the SYNCAGENT_CRASHPOINT
// environment variable is set, every hook is a cheap no-op.
package crashpoint
