package ftpfs

import (
	"io"
)

// Hashing reports whether the upload is hashed on receipt (its data must
// then go through Write); when it is not, ReceiveFrom is the faster way in.
// Call it from the writing goroutine.
func (u *Upload) Hashing() bool { return u.sum != nil }

// ReceiveFrom copies r to the temporary file until EOF, in chunks of the
// writeback size, each through the file's own ReadFrom (splice from a TCP
// connection on Linux: the bytes never enter user space), starting the
// writeback of each chunk as Write does. before runs ahead of each chunk
// with the bytes received so far (to count them and push back a
// connection's deadline, say), and once more at the end. The upload records no
// digest. Call it from the writing goroutine, for an upload that is not
// Hashing.
func (u *Upload) ReceiveFrom(r io.Reader, before func(done int64)) (int64, error) {
	u.sum = nil
	var total int64
	defer func() { before(total) }()
	for {
		before(total)
		n, err := u.file.ReadFrom(io.LimitReader(r, writebackChunk))
		total += n
		u.written += n
		u.writeback()
		if err != nil {
			return total, err
		}
		if n < writebackChunk {
			return total, nil // EOF
		}
	}
}
