//go:build !linux

package syncstate

import bolt "go.etcd.io/bbolt"

// releaseMapped leaves the mapping alone where MADV_DONTNEED does not
// have Linux's semantics for shared file mappings.
func releaseMapped(*bolt.DB) {}
