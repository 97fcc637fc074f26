package remote

import (
	"io"
)

// Large uploads are read and hashed ahead of the network in chunks of
// streamChunk bytes, streamDepth chunks at most, so reading the file,
// hashing it and sending it overlap instead of taking turns.
const (
	streamChunk = 1 << 20
	streamDepth = 4
	// streamMin is the smallest upload worth a read-ahead goroutine.
	streamMin = 8 << 20
)

// readAhead is a hashingReader for large files: io.Copy uses its WriteTo,
// which reads and hashes chunks in a goroutine of its own while the
// caller's goroutine writes the previous ones to the connection. progress
// is still called from the caller's goroutine. Used by one goroutine, like
// any reader.
type readAhead struct {
	*hashingReader
}

type chunk struct {
	b   []byte
	err error
}

// WriteTo copies everything to w. A read error is recorded in localErr
// (and returned wrapped as local, as Read does); a write error stops the
// read-ahead and is returned as is.
func (r readAhead) WriteTo(w io.Writer) (int64, error) {
	full := make(chan chunk, streamDepth)
	free := make(chan []byte, streamDepth)
	stop := make(chan struct{})
	for range streamDepth {
		free <- make([]byte, streamChunk)
	}
	go func() {
		defer close(full)
		for {
			var b []byte
			select {
			case b = <-free:
			case <-stop:
				return
			}
			n, err := io.ReadFull(r.r, b)
			if n > 0 {
				r.h.Write(b[:n])
			}
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			select {
			case full <- chunk{b[:n], err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		for range full { // let the goroutine end before returning
		}
	}()
	var written int64
	for c := range full {
		if len(c.b) > 0 {
			n, err := w.Write(c.b)
			written += int64(n)
			r.done += int64(n)
			if r.progress != nil {
				r.progress(r.done)
			}
			if err != nil {
				return written, err
			}
		}
		if c.err == io.EOF {
			return written, nil
		}
		if c.err != nil {
			r.localErr = c.err
			return written, local(c.err)
		}
		free <- c.b[:cap(c.b)]
	}
	return written, nil
}
