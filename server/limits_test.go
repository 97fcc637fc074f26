package server

import (
	"strings"
	"testing"

	"github.com/syncagent/syncagent/server/ftpfs"
)

// TestMKDDepthLimit refuses MKD more than ftpfs.MaxDirDepth levels below
// the home with a reply that says why.
func TestMKDDepthLimit(t *testing.T) {
	ts := startServer(t, testConfig(t))
	c := dialCtrl(t, ts.Addr, "")
	c.login("alice")
	p := ""
	for range ftpfs.MaxDirDepth {
		p += "/d"
		c.must(257, "MKD %s", p)
	}
	if code, msg := c.cmd("MKD %s/d", p); code != 550 || !strings.Contains(msg, "at most 128 levels") {
		t.Fatalf("MKD at depth %d: %d %q, want 550 naming the limit", ftpfs.MaxDirDepth+1, code, msg)
	}
	c.must(250, "RMD /d")
}
