package agent

import (
	"time"

	"github.com/syncagent/syncagent/agent/status"
)

// Metrics is how the sync engine records what it does; the agent's
// default is status.Metrics (Prometheus), and the engine never sees more
// than this interface. Implementations must be safe for concurrent use.
type Metrics interface {
	Transferred(folder, direction string, bytes int64)
	Error(folder, kind string)
	Queue(folder string, n int)
	Synced(folder string, t time.Time)
	ChangeLatency(d time.Duration)
}

var _ Metrics = (*status.Metrics)(nil)

// nopMetrics records nothing.
type nopMetrics struct{}

func (nopMetrics) Transferred(string, string, int64) {}
func (nopMetrics) Error(string, string)              {}
func (nopMetrics) Queue(string, int)                 {}
func (nopMetrics) Synced(string, time.Time)          {}
func (nopMetrics) ChangeLatency(time.Duration)       {}
