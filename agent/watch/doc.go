// Package watch reports which paths below a local folder changed, recursively
// and debounced, on top of github.com/fsnotify/fsnotify (which only watches
// single directories).
//
// A Watcher adds a watch for every directory of the tree, adds watches for
// directories that appear later (a `mkdir -p`, a tree moved in from outside)
// and walks them at once, so files written into a new directory before its
// watch existed are still reported. Events are coalesced per path: a path is
// reported once it has been quiet for Options.Debounce, or after
// Options.MaxDelay if it never goes quiet, and paths that become due together
// are delivered as one Batch.
//
// What the package does not do: it never stats or hashes on behalf of the
// caller and says nothing about what happened to a path, only "look here".
// A reported directory that no longer exists means its whole subtree is gone.
// When the kernel queue overflows or a watch cannot be added (inotify watch
// limit, out of file descriptors), the Watcher cannot know what it missed and
// sends a Batch with Rescan set: the caller must rescan the whole folder.
// The caller also owns the initial scan: New starts watching before it
// returns, so a scan started after New misses nothing.
package watch
