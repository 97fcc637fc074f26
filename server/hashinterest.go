package server

import (
	"sync"
	"time"
)

// hashInterestTTL is how long a user's HASH keeps its uploads hashed on
// receipt.
const hashInterestTTL = time.Hour

// hashInterest remembers which users sent HASH (or OPTS HASH) lately. Hashing an upload
// on receipt makes the HASH that follows it free (syncagent verifies every
// upload that way), but it roughly halves a single stream's throughput
// where the CPU is the limit, and most FTP clients never send HASH. So
// uploads are hashed on receipt only for users who sent HASH or OPTS HASH
// in the last hashInterestTTL, from any of their sessions (syncagent uploads
// on one connection and sends HASH on another); the others' HASH reads the
// file, as before. Safe for concurrent use; it holds one entry per
// configured user at most.
type hashInterest struct {
	mu   sync.Mutex
	last map[string]time.Time // user → time of their last HASH
}

// note records that user sent HASH or OPTS HASH at now.
func (h *hashInterest) note(user string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last = make(map[string]time.Time)
	}
	h.last[user] = now
}

// wants reports whether user sent HASH within hashInterestTTL before now.
func (h *hashInterest) wants(user string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.last[user]
	return ok && now.Sub(t) < hashInterestTTL
}
