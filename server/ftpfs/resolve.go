package ftpfs

import (
	"path"
	"path/filepath"
	"strings"
)

// MaxPathLen is the longest virtual path Resolve accepts, in bytes.
const MaxPathLen = 4096

// Resolve joins an FTP path argument to the session's current directory cwd
// and returns a clean absolute virtual path ("/a/b"). An empty arg means cwd;
// an arg starting with "/" ignores cwd. ".." never climbs above "/": it is
// clamped there, as in a chroot. Paths may be UTF-8 (or any other bytes a
// file name may hold) but Resolve returns ErrInvalidPath for NUL, backslash,
// any other control character (CR, LF, ...), DEL, and results longer than
// MaxPathLen. Resolve is a pure function, safe for concurrent use.
func Resolve(cwd, arg string) (string, error) {
	if err := checkPathBytes(cwd); err != nil {
		return "", err
	}
	if err := checkPathBytes(arg); err != nil {
		return "", err
	}
	p := arg
	if !strings.HasPrefix(arg, "/") {
		p = "/" + cwd + "/" + arg
	}
	p = path.Clean(p)
	if len(p) > MaxPathLen {
		return "", ErrInvalidPath
	}
	return p, nil
}

// checkPathBytes refuses the bytes no virtual path may contain. Backslash is
// refused because it is a separator on Windows (and a classic traversal
// trick elsewhere); control characters because they end up in replies and
// logs, where CR and LF could forge protocol lines.
func checkPathBytes(s string) error {
	if len(s) > MaxPathLen*2 {
		return ErrInvalidPath
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ErrInvalidPath
		}
	}
	return nil
}

// relPath turns a virtual path into the relative OS name os.Root expects:
// "/" is ".", "/a/b" is "a/b" (with the OS separator). The argument is
// resolved against "/" first, so any string is safe to pass.
func relPath(vpath string) (clean, rel string, err error) {
	clean, err = Resolve("/", vpath)
	if err != nil {
		return "", "", err
	}
	if clean == "/" {
		return clean, ".", nil
	}
	if err := checkOSName(clean); err != nil {
		return "", "", err
	}
	return clean, filepath.FromSlash(clean[1:]), nil
}
