//go:build !unix

package vsftpd

import "os/exec"

// ownGroup does nothing: process groups are a Unix notion (and vsftpd a
// Unix program).
func ownGroup(*exec.Cmd) {}

// killGroup kills cmd alone.
func killGroup(cmd *exec.Cmd) { cmd.Process.Kill() }
