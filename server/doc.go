// Package server is syncserver's FTP server: the control and data channels,
// the command table, authentication, TLS, hardening limits and the storage
// jail it serves files from (package server/ftpfs).
//
// It does not own configuration files or process lifecycle: cmd/syncserver
// loads a Config and wires a Server.
package server
