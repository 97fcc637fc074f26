//go:build !linux

package agent

// readDir reads one directory: its entries as a scan keeps them, or the
// error that makes it unreadable.
func (s *scanner) readDir(dir string, out []found, buf *dirBuf) []found {
	return s.readDirPortable(dir, out, buf)
}
