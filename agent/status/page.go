package status

import (
	"fmt"
	"html/template"
	"io"
	"time"
)

// page is the HTML view. It reloads itself with a meta refresh so it
// works without JavaScript.
var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"bytes": HumanBytes,
	"pct": func(t Transfer) string {
		if t.Size <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*float64(t.Done)/float64(t.Size))
	},
	"when": FormatTime,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{{.Refresh}}">
<title>syncagent status</title>
<style>
body { font: 15px system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: .3em .8em; text-align: left; }
th { background: #f3f3f3; }
.idle { color: #1a7f37; } .syncing, .scanning { color: #0969da; } .error { color: #cf222e; font-weight: bold; }
.err { color: #cf222e; }
</style>
</head>
<body>
<h1>syncagent</h1>
<h2>Folders</h2>
<table id="folders">
<tr><th>folder</th><th>state</th><th>queued</th><th>last sync</th><th>conflicts</th><th>uploaded</th><th>downloaded</th><th>last error</th></tr>
{{range .R.Folders}}<tr class="folder">
<td class="name">{{.Name}}</td><td class="{{.State}}">{{.State}}</td>
<td>{{.FilesQueued}} files, {{bytes .BytesQueued}}</td><td>{{when .LastSync}}</td>
<td>{{.Conflicts}}</td><td>{{.Uploaded}}</td><td>{{.Downloaded}}</td><td class="err">{{.LastError}}</td>
</tr>
{{range .Transfers}}<tr><td></td><td colspan="7">{{.Direction}} {{.Path}}: {{bytes .Done}} of {{bytes .Size}} ({{pct .}})</td></tr>
{{end}}{{end}}</table>
<h2>Servers</h2>
<table id="servers">
<tr><th>server</th><th>address</th><th>connected</th><th>capabilities</th><th>error</th></tr>
{{range .R.Servers}}<tr><td>{{.Name}}</td><td>{{.Address}}</td><td>{{if .Connected}}yes{{else}}no{{end}}</td>
<td>{{range .Caps}}{{.}} {{end}}</td><td class="err">{{.Error}}</td></tr>
{{end}}</table>
<p>Updated {{when .R.Time}}; this page reloads every {{.Refresh}} seconds. JSON: <a href="/status">/status</a>, Prometheus: <a href="/metrics">/metrics</a>.</p>
</body>
</html>
`))

func renderPage(w io.Writer, rep Report, refresh time.Duration) error {
	secs := max(int(refresh.Round(time.Second)/time.Second), 1)
	return page.Execute(w, struct {
		R       Report
		Refresh int
	}{rep, secs})
}

// HumanBytes formats n as a short size ("1.5 MiB").
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// TimeLayout is how every syncagent command and the status page print a
// time: RFC 3339 to the millisecond with the zone's offset, in the local
// zone, which restore -at reads back.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime prints t in TimeLayout in the local zone, or "never" for the
// zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format(TimeLayout)
}
