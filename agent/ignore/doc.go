// Package ignore decides which paths of a synced folder are left alone, using
// the gitignore pattern language that users already know.
//
// A Matcher is compiled once from a folder's `ignore:` list and then asked
// about slash-separated paths relative to the folder root. The package does
// no I/O: it never reads .gitignore files or looks at the disk; the caller
// says whether a path is a directory.
//
// Besides the configured patterns, every path with a component starting with
// TempPrefix (the agent's own temporary files) is always ignored. Conflict
// copies (NAME.sync-conflict-...) are deliberately not special: they sync
// like any other file.
package ignore
