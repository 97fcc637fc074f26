package status

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics records the agent's Prometheus metrics (prefix syncagent_) in
// a registry of its own, so nothing leaks in from the process-wide
// default. Its methods are safe for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	files    *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	errors   *prometheus.CounterVec
	queue    *prometheus.GaugeVec
	lastSync *prometheus.GaugeVec
	latency  prometheus.Histogram
}

// NewMetrics returns Metrics with every collector registered.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncagent_files_transferred_total", Help: "Files transferred, by folder and direction (upload, download).",
		}, []string{"folder", "direction"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncagent_bytes_transferred_total", Help: "Bytes transferred, by folder and direction (upload, download).",
		}, []string{"folder", "direction"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncagent_errors_total", Help: "Errors, by folder and kind (pass, network, path, changed).",
		}, []string{"folder", "kind"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syncagent_queue_length", Help: "Actions waiting in the folder's current pass.",
		}, []string{"folder"}),
		lastSync: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syncagent_last_sync_timestamp_seconds", Help: "Unix time of the folder's last successful pass.",
		}, []string{"folder"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "syncagent_change_latency_seconds",
			Help:    "Time from a file's modification to its arrival on the other side, for changes made while the agent runs.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800},
		}),
	}
	m.reg.MustRegister(m.files, m.bytes, m.errors, m.queue, m.lastSync, m.latency)
	return m
}

// Registry returns the registry GET /metrics serves.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Transferred counts one file of n bytes moved in direction.
func (m *Metrics) Transferred(folder, direction string, n int64) {
	m.files.WithLabelValues(folder, direction).Inc()
	m.bytes.WithLabelValues(folder, direction).Add(float64(n))
}

// Error counts one error of the given kind.
func (m *Metrics) Error(folder, kind string) {
	m.errors.WithLabelValues(folder, kind).Inc()
}

// Queue sets the folder's queue length.
func (m *Metrics) Queue(folder string, n int) {
	m.queue.WithLabelValues(folder).Set(float64(n))
}

// Synced records the time of the folder's last successful pass.
func (m *Metrics) Synced(folder string, t time.Time) {
	m.lastSync.WithLabelValues(folder).Set(float64(t.UnixNano()) / 1e9)
}

// ChangeLatency observes the delay between a change and its sync.
func (m *Metrics) ChangeLatency(d time.Duration) {
	m.latency.Observe(d.Seconds())
}
