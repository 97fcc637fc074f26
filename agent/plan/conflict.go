package plan

import (
	"strings"
	"time"
)

// conflictMarker sits between a conflict copy's name and its timestamp.
const conflictMarker = ".sync-conflict-"

// ConflictName returns the name under which the local side of a conflict at
// path is kept: "dir/NAME.sync-conflict-YYYYMMDD-HHMMSS-AGENT.EXT", with t
// in UTC, AGENT the id of the agent that made the copy (so two agents
// making one in the same second pick different names) and EXT the last
// extension (an empty agent leaves out its dash). A name without an extension, or a dotfile such as ".bashrc",
// gets the marker at its end.
func ConflictName(path string, t time.Time, agent string) string {
	dir, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, name = path[:i+1], path[i+1:]
	}
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && i < len(name)-1 {
		stem, ext = name[:i], name[i:]
	}
	if agent != "" {
		agent = "-" + agent
	}
	return dir + stem + conflictMarker + t.UTC().Format("20060102-150405") + agent + ext
}
