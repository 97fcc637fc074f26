// Package status owns the agent's HTTP status endpoint and its wire
// format: GET /status (JSON), GET /metrics (Prometheus text, through a
// private registry) and GET / (a small self-refreshing HTML page of the
// same status). It also reads that endpoint back (Fetch) for the
// "syncagent status" command. It knows nothing of how the agent syncs:
// the agent hands it a Source and records metrics through Metrics.
package status
