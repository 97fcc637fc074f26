//go:build linux

package syncstate

import (
	"syscall"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped drops the state file's pages from this process's resident
// set. bbolt reads the file through a read-only shared mapping, so every
// page a read touches (loading a folder of 100,000 records touches nearly
// all of them) counts towards the agent's RSS for as long as the mapping
// lives. MADV_DONTNEED on a shared file mapping only unmaps the pages:
// they stay in the page cache, and the next read faults them back in with
// the same content. The read transaction holds bbolt's mmap lock, so the
// mapping cannot move or be unmapped meanwhile. Errors are ignored: the
// pages then simply stay resident.
func releaseMapped(bdb *bolt.DB) {
	_ = bdb.View(func(tx *bolt.Tx) error {
		n := tx.Size() // every page below the high-water mark is mapped
		if n <= 0 {
			return nil
		}
		info := bdb.Info()
		// Not Go memory: a pointer into bbolt's mapping, converted the
		// way vet accepts.
		base := *(*unsafe.Pointer)(unsafe.Pointer(&info.Data))
		return syscall.Madvise(unsafe.Slice((*byte)(base), n), syscall.MADV_DONTNEED)
	})
}
