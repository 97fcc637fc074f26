// Package ftpfs is syncserver's storage jail: it maps the virtual paths an FTP
// session sees ("/docs/a.txt") onto one user's home directory below the
// storage root, and refuses everything that would leave that home.
//
// Every operation goes through an os.Root opened at the home, so "..",
// absolute paths, and symbolic links that point outside the home (including
// into a sibling user's home) never escape. The virtual root "/" is the home.
// The server's own data lives in ROOT/.syncserver, which is outside every home
// and so unreachable.
//
// Uploads are written to a temporary file under ROOT/.syncserver/tmp and only
// renamed into place by Upload.Commit, so a reader never sees half a file and
// an aborted upload leaves the previous version intact.
//
// The package does not speak FTP, keep old versions, or decide reply codes:
// package server does, mapping this package's sentinel errors (ErrNotExist,
// ErrNoSpace, ...) to replies.
package ftpfs
