//go:build linux

package ftpfs

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestJailWithoutOpenat2 runs the jail's tests again with openat2(2)
// treated as missing (kernels before 5.6, or a seccomp filter that refuses
// it), so every lookup takes the os.Root fallback that other systems use
// and that such kernels would: it must refuse every escape the openat2
// path refuses. The package's tests do not run in parallel, so the switch
// is seen by these runs only.
func TestJailWithoutOpenat2(t *testing.T) {
	was := noOpenat2.Swap(true)
	t.Cleanup(func() { noOpenat2.Store(was) })
	f := newTestEnv(t, Options{}).fs
	if _, err := f.openBeneath("x", unix.O_RDONLY); !errors.Is(err, unix.ENOSYS) {
		t.Fatalf("openBeneath with openat2 off: %v, want ENOSYS (the fallback is not forced)", err)
	}
	t.Run("TraversalCorpus", TestTraversalCorpus)
	t.Run("EscapingLinksRefused", TestEscapingLinksRefused)
	t.Run("CommitAfterLinkSwap", TestCommitAfterLinkSwap)
	t.Run("OpenRejectsHome", TestOpenRejectsHome)
	t.Run("ReadOnly", TestReadOnly)
}

// TestCommitAllWithoutSyncfs runs TestCommitAll with syncfs(2) failing, so
// each upload of the group makes itself durable on its own: every outcome
// must be the same as with the shared syncs.
func TestCommitAllWithoutSyncfs(t *testing.T) {
	calls := 0
	was := syncfs
	syncfs = func(int) error { calls++; return unix.ENOSYS }
	t.Cleanup(func() { syncfs = was })
	t.Run("CommitAll", TestCommitAll)
	if calls == 0 {
		t.Fatal("CommitAll never called syncfs: the fallback was not exercised")
	}
}
