package status

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultRefresh is Handler.Refresh when zero.
const DefaultRefresh = 2 * time.Second

// DefaultReportTimeout is Handler.ReportTimeout when zero.
const DefaultReportTimeout = 5 * time.Second

// Handler serves GET / (HTML), GET /status (JSON) and GET /metrics
// (Prometheus text). Set its fields before serving; it is then safe for
// concurrent use.
type Handler struct {
	Source Source
	// Registry is served at /metrics; nil serves an empty registry.
	Registry *prometheus.Registry
	// Refresh is how often the HTML page reloads itself.
	Refresh time.Duration
	// ReportTimeout bounds the time spent building one report.
	ReportTimeout time.Duration
}

// ServeHTTP routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/status":
		h.serveJSON(w, r)
	case "/metrics":
		reg := h.Registry
		if reg == nil {
			reg = prometheus.NewRegistry()
		}
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	case "/":
		h.serveHTML(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *Handler) report(r *http.Request) Report {
	d := h.ReportTimeout
	if d <= 0 {
		d = DefaultReportTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	rep := h.Source.Report(ctx)
	if rep.Time.IsZero() {
		rep.Time = time.Now()
	}
	if rep.Folders == nil {
		rep.Folders = []Folder{}
	}
	if rep.Servers == nil {
		rep.Servers = []Server{}
	}
	return rep
}

func (h *Handler) serveJSON(w http.ResponseWriter, r *http.Request) {
	rep := h.report(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(rep)
}

func (h *Handler) serveHTML(w http.ResponseWriter, r *http.Request) {
	rep := h.report(r)
	refresh := h.Refresh
	if refresh <= 0 {
		refresh = DefaultRefresh
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := renderPage(w, rep, refresh); err != nil {
		fmt.Fprintf(w, "<p>render: %s</p>", err)
	}
}

// Fetch reads the report of the agent whose status endpoint listens on
// addr (host:port).
func Fetch(ctx context.Context, client *http.Client, addr string) (Report, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return Report{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return Report{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return Report{}, fmt.Errorf("GET /status: %s: %s", resp.Status, b)
	}
	var rep Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return Report{}, fmt.Errorf("decode status: %w", err)
	}
	return rep, nil
}
