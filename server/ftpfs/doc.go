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
// With Options.Versions set, every regular file that is replaced or deleted
// is first moved (or hard-linked) into that version store, with the same
// descriptor-relative care as uploads; package versions owns the store's
// layout, trimming and pruning.
//
// The package does not speak FTP or decide reply codes: package server
// does, mapping this package's sentinel errors (ErrNotExist, ErrNoSpace,
// ...) to replies.
package ftpfs
