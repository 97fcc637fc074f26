//go:build !unix

package server

import (
	"io/fs"
	"net"
)

// uniqueID is empty where the platform gives no stable file identity.
func uniqueID(fs.FileInfo) string { return "" }

// setOOBInline is a no-op off Unix.
func setOOBInline(net.Conn) {}
