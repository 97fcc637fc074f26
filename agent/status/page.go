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
	"bytes":    HumanBytes,
	"progress": Progress,
	"when":     FormatTime,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{{.Refresh}}">
<title>syncagent status</title>
<style>
body { font: 15px system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: .3em .8em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
ul { margin: .2em 0 .6em; padding-left: 1.2em; }
h3 { margin: 1em 0 .2em; font-size: 1em; }
.idle { color: #1a7f37; } .syncing, .scanning { color: #0969da; } .error { color: #cf222e; font-weight: bold; }
.err { color: #cf222e; } .path { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>syncagent</h1>
<h2>Folders</h2>
<table id="folders">
<tr><th>folder</th><th>local</th><th>mode</th><th>remote</th><th>state</th><th>queued</th><th>last sync</th><th>conflict copies</th><th>uploaded</th><th>downloaded</th><th>last error</th></tr>
{{range .R.Folders}}<tr class="folder">
<td class="name">{{.Name}}</td><td class="path">{{.Path}}</td><td>{{.Mode}}</td><td class="path">{{.Server}}:{{.Remote}}</td>
<td class="{{.State}}">{{.State}}{{with .Problems}}, {{len .}} failing{{end}}</td>
<td>{{.FilesQueued}} files, {{bytes .BytesQueued}}</td><td>{{when .LastSync}}</td>
<td>{{len .ConflictCopies}}</td><td>{{.Uploaded}}</td><td>{{.Downloaded}}</td><td class="err">{{.LastError}}</td>
</tr>
{{end}}</table>
{{range .R.Folders}}{{if or .Transfers .Problems .ConflictCopies .Skipped}}<section class="details" id="folder-{{.Name}}">
<h2>{{.Name}}</h2>
{{with .Transfers}}<h3>Transfers</h3><ul class="transfers">{{range .}}<li>{{.Direction}} <span class="path">{{.Path}}</span>: {{progress .}}</li>{{end}}</ul>{{end}}
{{with .Problems}}<h3>Failing paths</h3><ul class="failing">{{range .}}<li><span class="path">{{.Path}}</span>: <span class="err">{{.Error}}</span></li>{{end}}</ul>{{end}}
{{with .ConflictCopies}}<h3>Conflict copies</h3><ul class="conflicts">{{range .}}<li><span class="path">{{.Path}}</span> (of <span class="path">{{.Original}}</span>, {{when .Time}}, {{bytes .Size}})</li>{{end}}</ul>{{end}}
{{with .Skipped}}<h3>Skipped</h3><ul class="skipped">{{range .}}<li><span class="path">{{.Path}}</span>: {{.Kind}}</li>{{end}}</ul>{{end}}
</section>
{{end}}{{end}}<h2>Servers</h2>
<table id="servers">
<tr><th>server</th><th>address</th><th>connected</th><th>capabilities in use</th><th>bandwidth limit</th><th>error</th></tr>
{{range .R.Servers}}<tr><td>{{.Name}}</td><td>{{.Address}}</td><td>{{if .Connected}}yes{{else}}no{{end}}</td>
<td>{{range .Caps}}{{.}} {{end}}</td><td>{{if .BWLimit}}{{.BWLimit}}{{else}}none{{end}}</td><td class="err">{{.Error}}</td></tr>
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

// Progress describes a transfer in flight: "1.0 MiB of 3.0 MiB (33%),
// 2.0 MiB/s, 1s left".
func Progress(t Transfer) string {
	s := HumanBytes(t.Done) + " of " + HumanBytes(t.Size)
	if t.Size > 0 {
		s += fmt.Sprintf(" (%.0f%%)", 100*float64(t.Done)/float64(t.Size))
	}
	if t.Rate > 0 {
		s += fmt.Sprintf(", %s/s, %s left", HumanBytes(int64(t.Rate)), (time.Duration(t.ETASeconds) * time.Second).String())
	}
	return s
}
