//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// writeRandomFile writes size random bytes to path.
func writeRandomFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// scenarioBigFile is scenario 2: one big file, syncagent (hashing, and
// verifying the upload) against `curl -T` to the same server.
func scenarioBigFile(ctx context.Context, e *env) (section, error) {
	size := e.sz.bigFile
	s := section{Title: fmt.Sprintf("2. One %d MiB file", size>>20),
		Text: "syncagent (`syncagent sync`, fresh state: hashes the file, uploads it to a temporary name, " +
			"verifies it and renames it) against a plain `curl -T` of the same file to the same server."}
	local := mkdir(e.work, "big-src")
	defer os.RemoveAll(local)
	if err := writeRandomFile(filepath.Join(local, "big.bin"), size); err != nil {
		return s, err
	}
	var ours, curl []time.Duration
	for run := range e.opts.Runs {
		e.progress("big file: run %d", run+1)
		d, err := pushOnce(ctx, e, syncagentPusher(e.agentBin), e.srv, local, 1)
		if err != nil {
			s.Notes = append(s.Notes, "syncagent failed: "+err.Error())
		} else {
			ours = append(ours, d)
		}
		if e.tools.curl == "" {
			continue
		}
		if err := e.srv.resetAside(); err != nil { // as pushOnce does for syncagent's runs
			return s, err
		}
		e.settle()
		r, err := timed(curlPut(ctx, e.tools.curl, e.srv, filepath.Join(local, "big.bin"), "/push/big.bin"))
		if err != nil {
			s.Notes = append(s.Notes, "curl failed: "+err.Error())
			continue
		}
		if n, b := countFiles(filepath.Join(e.srv.home, "push")); n != 1 || b != size {
			s.Notes = append(s.Notes, fmt.Sprintf("curl left %d files, %d bytes", n, b))
			continue
		}
		curl = append(curl, r.Wall)
	}
	tab := table{Headers: []string{"client", "median", "throughput", "syncagent ÷ curl", "target"}}
	mo, mc := medianDur(ours), medianDur(curl)
	if len(ours) > 0 {
		row := []string{"syncagent", secs(mo), mbps(size, mo), "", ""}
		if len(curl) > 0 {
			row[3] = fmt.Sprintf("%.2f×", float64(mo)/float64(mc))
			row[4] = verdict(float64(mo) <= 1.25*float64(mc), "≤ 1.25×")
		}
		tab.Rows = append(tab.Rows, row)
	}
	if len(curl) > 0 {
		tab.Rows = append(tab.Rows, []string{"curl -T", secs(mc), mbps(size, mc), "", ""})
	}
	s.Tables = append(s.Tables, tab)
	return s, nil
}
