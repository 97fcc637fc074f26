package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/textproto"
	"os"
	"time"
)

// Sentinel errors. Wrapped errors from this package match them with errors.Is.
var (
	// ErrNotSupported: the server does not offer what the operation needs
	// (HASH with SHA-256, for example).
	ErrNotSupported = errors.New("remote: not supported by server")
	// ErrSourceChanged: the local file changed while it was being uploaded;
	// nothing was put in place. Retry later.
	ErrSourceChanged = errors.New("remote: local file changed during upload")
	// ErrVerify: the transferred content's size or hash did not match; the
	// result was discarded. Retry later.
	ErrVerify = errors.New("remote: transfer verification failed")
	// ErrBadPath: a path the FTP protocol cannot carry (CR, LF or NUL).
	ErrBadPath = errors.New("remote: path not representable in FTP")
)

// ReplyCode returns the FTP reply code carried by err (0 if none).
func ReplyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// IsTransient reports whether err is worth retrying later on the same path:
// network failures, timeouts, 4xx replies (421 service closing, 425/426
// data connection trouble, 450/451/452 busy or out of space), a source that
// changed mid-upload and a failed verification. 5xx replies (permission
// denied, bad name, not found, not logged in), unsupported features, local
// file errors and certificate problems are permanent until something is
// changed by a person. A cancelled context is not transient: the caller
// asked to stop.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ErrPoolClosed) {
		return false
	}
	if isNetError(err) || errors.Is(err, ErrSourceChanged) || errors.Is(err, ErrVerify) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if errors.Is(err, ErrNotSupported) || errors.Is(err, ErrBadPath) || errors.Is(err, ErrNotFile) || errors.Is(err, ErrPrecondition) {
		return false
	}
	var le *localError
	if errors.As(err, &le) {
		return false
	}
	// A local file-system error (the engine's own rename, delete or mkdir)
	// belongs to its path; retrying the whole pass would not mend it.
	if isLocalFS(err) {
		return false
	}
	var (
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		verifyErr  *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalidErr) || errors.As(err, &verifyErr) {
		return false
	}
	if code := ReplyCode(err); code != 0 {
		return code >= 400 && code < 500
	}
	// Anything else came from the network or the protocol framing.
	return true
}

// leavesConnBroken reports whether a connection that returned err must be
// dropped: anything but a well-formed negative reply (other than 421) or
// one of our own checks may have left it mid-command.
func leavesConnBroken(err error) bool {
	if isNetError(err) {
		return true
	}
	if code := ReplyCode(err); code != 0 {
		return code == codeServiceClosing
	}
	if errors.Is(err, ErrSourceChanged) || errors.Is(err, ErrVerify) || errors.Is(err, ErrNotSupported) ||
		errors.Is(err, ErrBadPath) || errors.Is(err, ErrNotFile) || errors.Is(err, ErrPrecondition) {
		return false
	}
	var le *localError
	if errors.As(err, &le) {
		return false
	}
	// A local file-system error (the engine's own rename, delete or mkdir)
	// belongs to its path; retrying the whole pass would not mend it.
	if isLocalFS(err) {
		return false
	}
	return true
}

// isNetError reports a failure of the connection itself.
func isNetError(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	// syscall.Errno satisfies net.Error too: an errno from a local file
	// operation (a *fs.PathError, e.g. permission denied) is not a network
	// failure.
	var ne net.Error
	if errors.As(err, &ne) && !isLocalFS(err) {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// localError marks a failure of the local file system, which says nothing
// about the connection.
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

func local(err error) error {
	if err == nil {
		return nil
	}
	return &localError{err}
}

// Backoff returns how long to wait before retry number attempt (0-based):
// base doubled per attempt, capped at max, with "full jitter" in
// [d/2, d) so that many paths failing together do not retry in lockstep.
// It is safe for concurrent use.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	if max < base {
		max = base
	}
	d := base
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// isLocalFS reports whether err came from a local file-system call.
func isLocalFS(err error) bool {
	var pe *fs.PathError
	var le *os.LinkError
	return errors.As(err, &pe) || errors.As(err, &le)
}
