package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/crashpoint"
)

// TestCrashPoints kills a real syncagent process (SIGKILL, through the
// SYNCAGENT_CRASHPOINT hook) at each step of an upload, a download, a
// remote rename and a remote delete, restarts it, and checks that it
// reaches the right final state: both sides equal and as intended, no
// temporary left on either side, and a state database that agrees.
func TestCrashPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the agent binary")
	}
	big := strings.Repeat("0123456789abcdef", 16<<10) // 256 KiB: the kill lands mid-job
	type scenario struct {
		mode string
		// before prepares both sides (the agent not running); ready, if
		// set, runs a first sync and then makes the change the crash
		// interrupts.
		before func(t *testing.T, local, remote string)
		change func(t *testing.T, local, remote string)
		// want checks the converged tree.
		want func(t *testing.T, files map[string]string)
	}
	upload := scenario{
		mode: ModePush,
		before: func(t *testing.T, local, remote string) {
			putFile(t, filepath.Join(local, "a.txt"), big)
			putFile(t, filepath.Join(local, "sub/b.txt"), "b")
			putFile(t, filepath.Join(remote, "a.txt"), "the old a") // replaced: a version must remain
		},
		want: func(t *testing.T, files map[string]string) {
			if files["a.txt"] != sum([]byte(big)) || files["sub/b.txt"] != sum([]byte("b")) {
				t.Errorf("files after restart: %v", files)
			}
		},
	}
	download := scenario{
		mode: ModePull,
		before: func(t *testing.T, local, remote string) {
			putFile(t, filepath.Join(remote, "a.txt"), big)
			putFile(t, filepath.Join(remote, "sub/b.txt"), "b")
		},
		want: upload.want,
	}
	rename := scenario{
		mode: ModePush,
		before: func(t *testing.T, local, remote string) {
			putFile(t, filepath.Join(local, "a.txt"), big)
			putFile(t, filepath.Join(local, "sub/b.txt"), "b")
		},
		change: func(t *testing.T, local, remote string) {
			if err := os.Rename(filepath.Join(local, "a.txt"), filepath.Join(local, "c.txt")); err != nil {
				t.Fatal(err)
			}
		},
		want: func(t *testing.T, files map[string]string) {
			if _, ok := files["a.txt"]; ok || files["c.txt"] != sum([]byte(big)) {
				t.Errorf("files after restart: %v", files)
			}
		},
	}
	del := scenario{
		mode:   ModePush,
		before: rename.before,
		change: func(t *testing.T, local, remote string) {
			if err := os.Remove(filepath.Join(local, "a.txt")); err != nil {
				t.Fatal(err)
			}
		},
		want: func(t *testing.T, files map[string]string) {
			if _, ok := files["a.txt"]; ok || files["sub/b.txt"] != sum([]byte("b")) {
				t.Errorf("files after restart: %v", files)
			}
		},
	}
	for _, c := range []struct {
		step string
		sc   scenario
	}{
		{crashpoint.UploadStart, upload},
		{crashpoint.UploadSent, upload},
		{crashpoint.UploadRenamed, upload},
		{crashpoint.UploadSaved, upload},
		{crashpoint.DownloadStart, download},
		{crashpoint.DownloadFetched, download},
		{crashpoint.DownloadRenamed, download},
		{crashpoint.DownloadSaved, download},
		{crashpoint.RenameStart, rename},
		{crashpoint.RenameDone, rename},
		{crashpoint.RenameSaved, rename},
		{crashpoint.DeleteStart, del},
		{crashpoint.DeleteDone, del},
		{crashpoint.DeleteSaved, del},
	} {
		t.Run(c.step, func(t *testing.T) {
			t.Parallel()
			runCrashPoint(t, c.step, c.sc.mode, c.sc.before, c.sc.change, c.sc.want)
		})
	}
}

func runCrashPoint(t *testing.T, step, mode string, before, change func(t *testing.T, local, remote string), want func(*testing.T, map[string]string)) {
	s := startVersionedServer(t)
	local := t.TempDir()
	remote := filepath.Join(s.Home, "remote")
	before(t, local, remote)
	p := newAgentProc(t, s.Addr, local, mode)
	defer func() {
		if t.Failed() {
			t.Logf("agent log:\n%s", p.logs())
		}
	}()
	if change != nil {
		p.start()
		waitConverged(t, local, remote, 60*time.Second)
		p.waitPasses(2)
		p.stop()
		change(t, local, remote)
	}
	p.start(crashpoint.EnvVar + "=" + step + ":1")
	killed, exited := p.waitExit(60 * time.Second)
	if !killed {
		p.kill()
		t.Fatalf("the agent did not reach %s (exited by itself: %v)", step, exited)
	}
	// Temporaries the killed agent left on the server are removed at the
	// next start once old enough; pretend that time has passed.
	// The server completes a STOR whose client died with a clean close, so
	// a temporary can appear just after the kill: wait a moment first.
	time.Sleep(500 * time.Millisecond)
	backdate(remote)
	p.start()
	files := waitConverged(t, local, remote, 60*time.Second)
	p.waitPasses(2)
	p.stop()
	want(t, files)
	checkState(t, p.state, files)
	checkNoPanic(t, p.logs())
}

// waitConverged waits (bounded) until local and remote hold the same files
// and neither holds an agent temporary, and returns the files.
func waitConverged(t testing.TB, local, remote string, within time.Duration) map[string]string {
	t.Helper()
	deadline := time.Now().Add(within)
	var why string
	for time.Now().Before(deadline) {
		lf, lt := fileHashes(t, local)
		rf, rt := fileHashes(t, remote)
		d := diffHashes(lf, rf)
		switch {
		case len(d) > 0:
			why = "differ: " + strings.Join(d, "; ")
		case len(lt)+len(rt) > 0:
			why = "temporaries left: " + strings.Join(append(lt, rt...), ", ")
		default:
			return lf
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no convergence within %v: %s", within, why)
	return nil
}

func diffHashes(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, k+" local "+short(v)+" remote "+short(b[k]))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k+" remote only "+short(v))
		}
	}
	return d
}

func short(h string) string {
	if len(h) > 8 {
		return h[:8]
	}
	if h == "" {
		return "-"
	}
	return h
}

// checkNoPanic fails if the agent's output shows a panic or a fatal error.
func checkNoPanic(t testing.TB, logs string) {
	t.Helper()
	for _, bad := range []string{"panic:", "fatal error:", "DATA RACE"} {
		if i := strings.Index(logs, bad); i >= 0 {
			t.Errorf("agent output shows %q:\n%s", bad, logs[i:min(len(logs), i+3000)])
		}
	}
}
