package agent

import (
	"slices"
	"testing"

	"github.com/syncagent/syncagent/agent/remote"
)

// TestCapsInUse: TLS is listed when the connection is encrypted, not
// because the server offers AUTH TLS; HASH only with SHA-256, which the
// agent uses.
func TestCapsInUse(t *testing.T) {
	offers := remote.Caps{MLSD: true, HASH: true, HashSHA256: true, MFMT: true, TLS: true}
	for _, tc := range []struct {
		caps remote.Caps
		tls  string
		want []string
	}{
		{offers, TLSNone, []string{"MLSD", "HASH", "MFMT"}},
		{offers, TLSExplicit, []string{"MLSD", "HASH", "MFMT", "TLS (explicit)"}},
		{remote.Caps{HASH: true}, TLSImplicit, []string{"TLS (implicit)"}},
	} {
		if got := capsInUse(tc.caps, tc.tls); !slices.Equal(got, tc.want) {
			t.Errorf("capsInUse(%+v, %s) = %v, want %v", tc.caps, tc.tls, got, tc.want)
		}
	}
}
