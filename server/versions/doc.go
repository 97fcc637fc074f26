// Package versions is syncserver's version store: the previous contents of
// files that were replaced or deleted, kept under ROOT/.syncserver/versions,
// outside every home.
//
// The layout mirrors the homes: the versions of the file "/docs/a.txt" in
// home "alice" are the regular files of the directory
// ROOT/.syncserver/versions/alice/docs/a.txt/, each named by the UTC time
// its content stopped being current ("20261123T183000.123Z"), so names sort
// by time and listing a directory is listing the versions; no metadata file
// exists to get out of step. Subdirectories of that directory hold the
// versions of the files below "/docs/a.txt" if that name was once a
// directory. Two users with the same home share one tree of versions; a user
// whose home lies inside another's sees the part of the tree for its home.
//
// The store does not move files itself: Reserve hands out a free name in an
// open directory, and package ftpfs moves (renames) or hard-links the old
// file there with the same jail care as its uploads, so keeping a version
// costs a rename, not a copy. The store trims a file's versions to Keep when
// a new one arrives and prunes versions older than MaxAge in Prune, which
// Run calls in the background.
//
// The package knows nothing of FTP; package server shows the tree to users
// as the read-only virtual directory /.versions.
package versions
