//go:build !unix

package ftpchild

import "os/exec"

// ownGroup does nothing: process groups are a Unix notion (and the FTP
// servers run here are Unix programs).
func ownGroup(*exec.Cmd) {}

// killGroup kills cmd alone.
func killGroup(cmd *exec.Cmd) { cmd.Process.Kill() }
