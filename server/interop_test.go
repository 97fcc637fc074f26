package server

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/syncagent/syncagent/internal/testenv"
)

// These tests drive the server with third-party FTP clients: Python's
// ftplib (through testdata/ftplib_client.py), curl and lftp. A client that
// is not installed skips its test; CI installs all of them.

// toolTimeout bounds every external command so that a hung client fails
// the test instead of the CI run.
const toolTimeout = 2 * time.Minute

// lookTool returns the path of an installed program or skips the test.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	return testenv.LookPath(t, name)
}

// runTool runs a program with a timeout and returns its combined output.
func runTool(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %s: %w", name, toolTimeout, ctx.Err())
	}
	return string(out), err
}

// mustRun runs a program and fails the test, showing its output, unless it
// exits 0.
func mustRun(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runTool(t, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return out
}

// tlsServer starts a server requiring TLS, and session reuse on data
// connections when reuse is set, with an implicit-TLS listener too.
func tlsServer(t *testing.T, reuse bool) (*testServer, tlsFiles) {
	t.Helper()
	cfg := testConfig(t)
	tf := writeTLSFiles(t, t.TempDir(), "alice-cert")
	cfg.TLS.Cert, cfg.TLS.Key = tf.Cert, tf.Key
	cfg.TLS.Require = true
	cfg.TLS.RequireSessionReuse = reuse
	return startServer(t, cfg), tf
}

// snapshotTree maps each path below root (slash-separated) to "dir" or to
// the file's content.
func snapshotTree(t *testing.T, root string) map[string]string {
	t.Helper()
	m := make(map[string]string)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			m[rel] = "dir"
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			m[rel] = "file:" + string(b)
		default:
			m[rel] = "other"
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return m
}

// sameTree fails unless the trees under want and got hold the same
// directories and byte-identical files.
func sameTree(t *testing.T, what, want, got string) {
	t.Helper()
	w, g := snapshotTree(t, want), snapshotTree(t, got)
	var diffs []string
	for p, wv := range w {
		gv, ok := g[p]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+p)
		case gv != wv:
			diffs = append(diffs, fmt.Sprintf("differs %s (%d vs %d bytes)", p, len(gv), len(wv)))
		}
	}
	for p := range g {
		if _, ok := w[p]; !ok {
			diffs = append(diffs, "extra "+p)
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Fatalf("%s: %d differences:\n%s", what, len(diffs), strings.Join(diffs[:min(len(diffs), 30)], "\n"))
	}
}

// seedFile writes a file below dir, creating its parents.
func seedFile(t *testing.T, dir, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFtplibInterop(t *testing.T) {
	py := lookTool(t, "python3")
	cfg := testConfig(t)
	cfg.ActiveMode = true
	ts := startServer(t, cfg)
	home := filepath.Join(ts.Root, "alice")
	// The seed files the script expects (SEED_* in the script).
	seedFile(t, home, "seed/lf.txt", []byte("alpha\nbeta\n\ngamma ü\n"))
	seedFile(t, home, "seed/crlf.txt", []byte("one\r\ntwo\r\n"))
	big, err := os.Create(filepath.Join(home, "seed", "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	}
	big.Close()

	scratch := t.TempDir()
	host, port, _ := net.SplitHostPort(ts.Addr)
	out := mustRun(t, nil, py, filepath.Join("testdata", "ftplib_client.py"), "plain", host, port, "alice", testPassword, "", scratch)
	t.Log(out)

	// Every file the script uploaded holds on disk exactly what it sent: in
	// particular ascii.txt, sent by storlines with CRLF, is stored with LF.
	expectDir := filepath.Join(scratch, "expect")
	want := snapshotTree(t, expectDir)
	if len(want) < 10 {
		t.Fatalf("script recorded only %d expected paths", len(want))
	}
	for rel, content := range want {
		if content == "dir" {
			continue
		}
		got, err := os.ReadFile(filepath.Join(home, filepath.FromSlash(rel)))
		if err != nil || "file:"+string(got) != content {
			t.Errorf("%s on disk = %q (err %v), want %q", rel, truncate(got), err, truncate([]byte(content[5:])))
		}
	}
	ascii, _ := os.ReadFile(filepath.Join(home, "ascii.txt"))
	if bytes.Contains(ascii, []byte("\r")) || !bytes.Contains(ascii, []byte("\n")) {
		t.Errorf("ascii.txt on disk has CR or no LF: %q", ascii)
	}
	fi, err := os.Stat(filepath.Join(home, "mfmt.txt"))
	if wantT := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC); err != nil || !fi.ModTime().Equal(wantT) {
		t.Errorf("mfmt.txt mtime = %v (err %v), want %v", fi.ModTime(), err, wantT)
	}
	// ABOR left the seed file alone, and the aborted session left no
	// temporary upload behind in the home.
	if fi, err := os.Stat(filepath.Join(home, "seed", "big.bin")); err != nil || fi.Size() != 64<<20 {
		t.Errorf("big.bin after ABOR: %v, %v", fi, err)
	}
}

func TestFtplibInteropTLS(t *testing.T) {
	py := lookTool(t, "python3")
	ts, tf := tlsServer(t, true)
	host, port, _ := net.SplitHostPort(ts.Addr)
	out := mustRun(t, nil, py, filepath.Join("testdata", "ftplib_client.py"), "tls", host, port, "alice", testPassword, tf.CA, t.TempDir())
	t.Log(out)
	if got, err := os.ReadFile(filepath.Join(ts.Root, "alice", "tls.txt")); err != nil || string(got) != "a\nb\n" {
		t.Errorf("tls.txt on disk = %q, %v", got, err)
	}
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// curlArgs are the options of every curl run: quiet but with errors, and
// bounded in time.
func curlArgs(extra ...string) []string {
	return append([]string{"-sS", "--connect-timeout", "10", "--max-time", "60", "--user", "alice:" + testPassword}, extra...)
}

func TestCurlInterop(t *testing.T) {
	curl := lookTool(t, "curl")
	ts := startServer(t, testConfig(t))
	home := filepath.Join(ts.Root, "alice")
	local := t.TempDir()
	base := "ftp://" + ts.Addr + "/"
	data := bytes.Repeat([]byte("curl interop \x00\xff\r\n"), 40000)
	seedFile(t, local, "up.bin", data)

	// Upload.
	mustRun(t, nil, curl, curlArgs("-T", filepath.Join(local, "up.bin"), base+"up.bin")...)
	if got, err := os.ReadFile(filepath.Join(home, "up.bin")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("uploaded file differs on disk (%d bytes, err %v)", len(got), err)
	}
	// Upload into directories that do not exist yet; names need URL escapes.
	mustRun(t, nil, curl, curlArgs("--ftp-create-dirs", "-T", filepath.Join(local, "up.bin"), base+"new/deep%20dir/%C3%BC.bin")...)
	if got, err := os.ReadFile(filepath.Join(home, "new", "deep dir", "ü.bin")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("--ftp-create-dirs upload differs on disk (%d bytes, err %v)", len(got), err)
	}
	// Append.
	seedFile(t, local, "tail.txt", []byte("tail"))
	mustRun(t, nil, curl, curlArgs("--append", "-T", filepath.Join(local, "tail.txt"), base+"up.bin")...)
	if got, _ := os.ReadFile(filepath.Join(home, "up.bin")); !bytes.Equal(got, append(data[:len(data):len(data)], "tail"...)) {
		t.Fatalf("--append gave %d bytes", len(got))
	}
	mustRun(t, nil, curl, curlArgs("-T", filepath.Join(local, "up.bin"), base+"up.bin")...)

	// Resume an interrupted upload: curl asks SIZE, then sends the rest
	// with APPE.
	seedFile(t, home, "resume.bin", data[:70001])
	mustRun(t, nil, curl, curlArgs("-C", "-", "-T", filepath.Join(local, "up.bin"), base+"resume.bin")...)
	if got, _ := os.ReadFile(filepath.Join(home, "resume.bin")); !bytes.Equal(got, data) {
		t.Fatalf("resumed upload differs (%d bytes)", len(got))
	}
	// Each way curl walks to a file: CWD per part, one CWD, none.
	for _, method := range []string{"multicwd", "singlecwd", "nocwd"} {
		out := filepath.Join(local, method+".bin")
		mustRun(t, nil, curl, curlArgs("--ftp-method", method, "-o", out, base+"new/deep%20dir/%C3%BC.bin")...)
		if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
			t.Fatalf("download with --ftp-method %s differs (%d bytes)", method, len(got))
		}
	}
	// Commands around a transfer (-Q), as scripts use to rename after upload.
	mustRun(t, nil, curl, curlArgs("-Q", "-RNFR up.bin", "-Q", "-RNTO moved.bin", "-T", filepath.Join(local, "tail.txt"), base+"up.bin")...)
	if got, _ := os.ReadFile(filepath.Join(home, "moved.bin")); string(got) != "tail" {
		t.Fatalf("-Q RNFR/RNTO after upload: moved.bin = %q", got)
	}
	mustRun(t, nil, curl, curlArgs("-T", filepath.Join(local, "up.bin"), base+"up.bin")...)

	// Download.
	down := filepath.Join(local, "down.bin")
	mustRun(t, nil, curl, curlArgs("-o", down, base+"new/deep%20dir/%C3%BC.bin")...)
	if got, _ := os.ReadFile(down); !bytes.Equal(got, data) {
		t.Fatalf("download differs (%d bytes)", len(got))
	}
	// Resume a partial download.
	partial := filepath.Join(local, "partial.bin")
	seedFile(t, local, "partial.bin", data[:123457])
	mustRun(t, nil, curl, curlArgs("-C", "-", "-o", partial, base+"up.bin")...)
	if got, _ := os.ReadFile(partial); !bytes.Equal(got, data) {
		t.Fatalf("resumed download differs (%d bytes)", len(got))
	}

	// Listings: LIST for a directory URL, NLST with --list-only.
	list := mustRun(t, nil, curl, curlArgs(base+"new/deep%20dir/")...)
	if !strings.Contains(list, fmt.Sprintf(" %d ", len(data))) || !strings.HasSuffix(strings.TrimRight(list, "\r\n"), " ü.bin") {
		t.Fatalf("LIST output:\n%s", list)
	}
	names := mustRun(t, nil, curl, curlArgs("--list-only", base)...)
	if got := strings.Fields(names); !slices.Contains(got, "new") || !slices.Contains(got, "up.bin") || !slices.Contains(got, "moved.bin") {
		t.Fatalf("NLST output:\n%s", names)
	}
	// A missing file is an error, with the server's 550 passed on.
	if out, err := runTool(t, nil, curl, curlArgs("-o", filepath.Join(local, "x"), base+"missing.bin")...); err == nil {
		t.Fatalf("download of a missing file succeeded:\n%s", out)
	}
}

func TestCurlInteropTLS(t *testing.T) {
	curl := lookTool(t, "curl")
	local := t.TempDir()
	data := bytes.Repeat([]byte("secret bytes\n"), 50000)
	seedFile(t, local, "up.bin", data)

	// curl turns TLS session tickets off (SSL_OP_NO_TICKET), so over TLS 1.2
	// it can only resume by session ID, which Go's crypto/tls server does
	// not implement; over TLS 1.3 it resumes with a PSK ticket. So TLS 1.2
	// runs against a server that does not require session reuse.
	for _, tc := range []struct {
		name  string
		opts  []string
		reuse bool
	}{
		{"default", nil, true},
		{"tls1.3", []string{"--tlsv1.3"}, true},
		{"tls1.2", []string{"--tls-max", "1.2"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, tf := tlsServer(t, tc.reuse)
			home := filepath.Join(ts.Root, "alice")
			explicit := "ftp://" + ts.Addr + "/sub/"
			tls := append([]string{"--ssl-reqd", "--cacert", tf.CA}, tc.opts...)
			mustRun(t, nil, curl, curlArgs(append(tls, "--ftp-create-dirs", "-T", filepath.Join(local, "up.bin"), explicit+"up.bin")...)...)
			if got, err := os.ReadFile(filepath.Join(home, "sub", "up.bin")); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("FTPS upload differs on disk (%d bytes, err %v)", len(got), err)
			}
			down := filepath.Join(local, tc.name+"-explicit.bin")
			mustRun(t, nil, curl, curlArgs(append(tls, "-o", down, explicit+"up.bin")...)...)
			if got, _ := os.ReadFile(down); !bytes.Equal(got, data) {
				t.Fatalf("FTPS download differs (%d bytes)", len(got))
			}
			if list := mustRun(t, nil, curl, curlArgs(append(tls, explicit)...)...); !strings.Contains(list, " up.bin") {
				t.Fatalf("FTPS LIST output:\n%s", list)
			}

			// Implicit FTPS on its own listener.
			implicit := "ftps://" + ts.ImplicitAddr + "/sub/"
			down = filepath.Join(local, tc.name+"-implicit.bin")
			mustRun(t, nil, curl, curlArgs(append(tls[1:], "-o", down, implicit+"up.bin")...)...)
			if got, _ := os.ReadFile(down); !bytes.Equal(got, data) {
				t.Fatalf("implicit FTPS download differs (%d bytes)", len(got))
			}
			mustRun(t, nil, curl, curlArgs(append(tls[1:], "-T", filepath.Join(local, "up.bin"), implicit+"implicit.bin")...)...)
			if got, _ := os.ReadFile(filepath.Join(home, "sub", "implicit.bin")); !bytes.Equal(got, data) {
				t.Fatalf("implicit FTPS upload differs on disk (%d bytes)", len(got))
			}

			// Without TLS the server refuses the login, and curl fails.
			if out, err := runTool(t, nil, curl, curlArgs("ftp://"+ts.Addr+"/")...); err == nil {
				t.Fatalf("plain FTP to a TLS-only server succeeded:\n%s", out)
			}
		})
	}

	// Where reuse is required, curl over TLS 1.2 (no tickets) has its data
	// connection refused (425; curl may see the broken pipe first), and
	// nothing is stored.
	ts, tf := tlsServer(t, true)
	out, err := runTool(t, nil, curl, curlArgs("--ssl-reqd", "--cacert", tf.CA, "--tls-max", "1.2",
		"-T", filepath.Join(local, "up.bin"), "ftp://"+ts.Addr+"/refused.bin")...)
	if err == nil {
		t.Fatalf("TLS 1.2 data connection without session reuse: err %v, output:\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(ts.Root, "alice", "refused.bin")); err == nil {
		t.Fatal("refused upload was stored")
	}
}

// makeMirrorTree builds the local tree that lftp mirrors: nested
// directories, 200 small files, names with spaces and non-ASCII letters, an
// empty file and an empty directory.
func makeMirrorTree(t *testing.T, root string) {
	t.Helper()
	dirs := []string{"", "a", "a/b", "a/b/c d", "ünïcødé", "ünïcødé/ß x", "deep/er/and/deeper"}
	for i := range 200 {
		dir := dirs[i%len(dirs)]
		name := fmt.Sprintf("file-%03d.txt", i)
		switch i % 4 {
		case 1:
			name = fmt.Sprintf("with space %03d.dat", i)
		case 2:
			name = fmt.Sprintf("größe €%03d.bin", i)
		}
		content := bytes.Repeat([]byte(fmt.Sprintf("line %d\r\n\x00\xff", i)), i%37+1)
		seedFile(t, root, path.Join(dir, name), content)
	}
	seedFile(t, root, "a/empty file", nil)
	if err := os.MkdirAll(filepath.Join(root, "empty dir"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// lftpRun runs lftp commands after the given settings, isolated from any
// user configuration.
func lftpRun(t *testing.T, lftp, settings, commands string) string {
	t.Helper()
	script := "set net:max-retries 1; set net:timeout 10; set net:reconnect-interval-base 1; set cmd:fail-exit yes; " +
		settings + "; " + commands
	return mustRun(t, []string{"HOME=" + t.TempDir(), "LFTP_HOME=" + t.TempDir()}, lftp, "-c", script)
}

// lftpQuote quotes an argument for lftp's command parser.
func lftpQuote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

func TestLftpMirror(t *testing.T) {
	lftp := lookTool(t, "lftp")
	ts := startServer(t, testConfig(t))
	testLftpMirror(t, lftp, ts, "set ftp:ssl-allow no; set ftp:prefer-epsv yes")
}

func TestLftpMirrorTLS(t *testing.T) {
	lftp := lookTool(t, "lftp")
	ts, tf := tlsServer(t, true)
	settings := "set ftp:ssl-force yes; set ftp:ssl-protect-data yes; set ssl:ca-file " + lftpQuote(tf.CA)
	src := testLftpMirror(t, lftp, ts, settings)

	// Implicit FTPS on its own listener.
	back := filepath.Join(t.TempDir(), "back")
	lftpRun(t, lftp, settings, fmt.Sprintf("open -u alice,%s ftps://%s; mirror --parallel=4 /up %s", testPassword, ts.ImplicitAddr, lftpQuote(back)))
	sameTree(t, "local copy after mirror over implicit FTPS", src, back)
}

// testLftpMirror uploads a tree with "mirror -R --parallel=4", checks the
// server's files on disk byte for byte, mirrors it back down into another
// directory and compares again. It returns the local tree.
func testLftpMirror(t *testing.T, lftp string, ts *testServer, settings string) string {
	src := t.TempDir()
	makeMirrorTree(t, src)
	open := fmt.Sprintf("open -u alice,%s ftp://%s", testPassword, ts.Addr)

	lftpRun(t, lftp, settings, open+"; mirror -R --parallel=4 "+lftpQuote(src)+" /up")
	sameTree(t, "server after mirror -R", src, filepath.Join(ts.Root, "alice", "up"))

	back := filepath.Join(t.TempDir(), "back")
	lftpRun(t, lftp, settings, open+"; mirror --parallel=4 /up "+lftpQuote(back))
	sameTree(t, "local copy after mirror", src, back)

	// The same from LIST output (ls -l lines) instead of MLSD.
	back = filepath.Join(t.TempDir(), "back")
	lftpRun(t, lftp, settings+"; set ftp:use-mlsd no", open+"; mirror --parallel=4 /up "+lftpQuote(back))
	sameTree(t, "local copy after mirror from LIST", src, back)

	// A second upload finds nothing to do: the server kept the sizes and
	// the modification times lftp set (MFMT) and lists them back (MLSD).
	out := lftpRun(t, lftp, settings, open+"; mirror -R -v --no-perms --parallel=4 "+lftpQuote(src)+" /up")
	if strings.Contains(out, "Transferring") {
		t.Errorf("second mirror -R uploaded again:\n%s", out)
	}
	sameTree(t, "server after a second mirror -R", src, filepath.Join(ts.Root, "alice", "up"))
	return src
}
