package server

import (
	"bufio"
	"io"
)

// asciiEncoder turns the server's LF line ends into the CRLF of TYPE A
// (RFC 959 3.1.1.1) while a file is sent. A CR already before an LF is kept
// as is, so CRLF files are not doubled.
type asciiEncoder struct {
	r      *bufio.Reader
	prevCR bool
	pendLF bool
}

func newASCIIEncoder(r io.Reader) io.Reader { return &asciiEncoder{r: bufio.NewReaderSize(r, 32<<10)} }

func (e *asciiEncoder) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if e.pendLF {
			p[n] = '\n'
			n++
			e.pendLF = false
			continue
		}
		c, err := e.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if c == '\n' && !e.prevCR {
			p[n] = '\r'
			n++
			e.pendLF = true
			e.prevCR = false
			continue
		}
		e.prevCR = c == '\r'
		p[n] = c
		n++
	}
	return n, nil
}

// asciiDecoder turns TYPE A's CRLF into LF while a file is received; a CR
// not followed by LF is kept.
type asciiDecoder struct {
	r *bufio.Reader
}

func newASCIIDecoder(r io.Reader) io.Reader { return &asciiDecoder{r: bufio.NewReaderSize(r, 32<<10)} }

func (d *asciiDecoder) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := d.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if c == '\r' {
			next, err := d.r.Peek(1)
			if err == nil && next[0] == '\n' {
				continue
			}
		}
		p[n] = c
		n++
		if d.r.Buffered() == 0 && n > 0 {
			return n, nil
		}
	}
	return n, nil
}
