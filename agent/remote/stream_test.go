package remote

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// TestReadAhead checks the read-ahead copy: the bytes, the hash and the
// progress match a plain copy; a read error is a local error; a write
// error stops it.
func TestReadAhead(t *testing.T) {
	data := randomBytes(t, 3*streamChunk+12345)
	var last int64
	src := &hashingReader{r: bytes.NewReader(data), h: sha256.New(), progress: func(n int64) { last = n }}
	var out bytes.Buffer
	n, err := io.Copy(&out, readAhead{src})
	if err != nil || n != int64(len(data)) || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("copy: %d, %v (equal %v)", n, err, bytes.Equal(out.Bytes(), data))
	}
	if want := sha256.Sum256(data); !bytes.Equal(src.h.Sum(nil), want[:]) || src.done != n || last != n {
		t.Errorf("hash/progress: done %d, last %d", src.done, last)
	}

	boom := errors.New("disk says no")
	bad := &hashingReader{r: io.MultiReader(bytes.NewReader(data[:streamChunk+7]), iotest.ErrReader(boom)), h: sha256.New()}
	if _, err := io.Copy(io.Discard, readAhead{bad}); !errors.Is(err, boom) || !errors.Is(bad.localErr, boom) {
		t.Errorf("read error: %v (localErr %v)", err, bad.localErr)
	}
	var le *localError
	if _, err := io.Copy(io.Discard, readAhead{&hashingReader{r: iotest.ErrReader(boom), h: sha256.New()}}); !errors.As(err, &le) {
		t.Errorf("read error %v is not a local error", err)
	}

	wboom := errors.New("connection reset")
	if _, err := io.Copy(failWriter{wboom}, readAhead{&hashingReader{r: bytes.NewReader(data), h: sha256.New()}}); !errors.Is(err, wboom) {
		t.Errorf("write error: %v", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }
