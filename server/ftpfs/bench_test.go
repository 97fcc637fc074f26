package ftpfs

import (
	"bytes"
	"testing"
)

// BenchmarkCreateCommit4K measures one small upload: Create, write 4 KiB,
// Commit (fsync and rename into place).
func BenchmarkCreateCommit4K(b *testing.B) {
	e := newTestEnv(b, Options{})
	data := bytes.Repeat([]byte("x"), 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		u, err := e.fs.Create("/bench.bin", CreateTruncate, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := u.File().Write(data); err != nil {
			b.Fatal(err)
		}
		if err := u.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolve measures path resolution of a typical argument.
func BenchmarkResolve(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Resolve("/docs/projects", "../reports/2024/q3 summary.pdf"); err != nil {
			b.Fatal(err)
		}
	}
}
