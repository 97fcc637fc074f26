package remote

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The parsers here read what a server sends, and a server is not trusted:
// whatever the bytes, they must not panic, and what they accept must be
// safe to act on. Seed corpora live in testdata/fuzz/<target>.

// FuzzParseMLSx feeds arbitrary MLSD/MLST fact lines to parseMLSx.
func FuzzParseMLSx(f *testing.F) {
	for _, s := range []string{
		"type=file;size=12;modify=20240102030405;unique=801g1; a b.txt",
		"Type=DIR;Modify=20240102030405.123; sub",
		"type=cdir; .",
		"type=pdir; ..",
		"type=OS.unix=symlink;size=3; link",
		"type=file;size=-1;modify=2024; neg",
		"type=file;size=99999999999999999999999; huge",
		"type=file;modify=20240102030405.; dot",
		"type=file;modify=20241302030405; bad month",
		"type=file;;=;size; x",
		"type=file;size=1; ../../etc/passwd",
		"type=file;size=1; a/b",
		"type=file;size=1; \x00",
		" leading space",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, ok := parseMLSx(line)
		if !ok {
			if e != (Entry{}) {
				t.Fatalf("rejected line %q returned %+v", line, e)
			}
			return
		}
		if e.Name == "" {
			t.Fatalf("accepted %q with an empty name", line)
		}
		if !strings.HasSuffix(line, " "+e.Name) {
			t.Fatalf("name %q is not the tail of %q", e.Name, line)
		}
		if e.Dir && e.Size != 0 {
			t.Fatalf("directory with size %d from %q", e.Size, line)
		}
		if !e.ModTime.IsZero() && e.ModTime.Location() != time.UTC {
			t.Fatalf("modify not in UTC from %q", line)
		}
		// The filter list() applies must keep every name that could
		// leave the listed directory out of the engine.
		if validName(e.Name) && (strings.Contains(e.Name, "/") || e.Name == ".." || strings.ContainsRune(e.Name, 0)) {
			t.Fatalf("validName accepted %q", e.Name)
		}
	})
}

// FuzzParseMLSTime checks that a modify fact either parses to a time that
// formats back to the same digits, or is ignored (zero).
func FuzzParseMLSTime(f *testing.F) {
	for _, s := range []string{"20240102030405", "20240102030405.1", "20240102030405.123456789", "2024", ".", "20240230000000", "99991231235959.999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tm := parseMLSTime(v)
		if tm.IsZero() {
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("%q parsed outside UTC", v)
		}
		if len(v) < 14 || tm.Format("20060102150405") != v[:14] {
			t.Fatalf("%q parsed to %v, which does not format back", v, tm)
		}
	})
}

// FuzzMLSDRoundTrip formats an entry the way a conforming server does and
// checks that parseMLSx returns exactly it.
func FuzzMLSDRoundTrip(f *testing.F) {
	f.Add("a.txt", false, int64(12), int64(1704164645), "801g1")
	f.Add("dir with space", true, int64(0), int64(0), "")
	f.Add("semi;colon=x ", false, int64(1)<<40, int64(253402300799), "u;")
	f.Fuzz(func(t *testing.T, name string, dir bool, size, unix int64, id string) {
		if name == "" || strings.ContainsAny(name, "\r\n") || !utf8.ValidString(name) || size < 0 ||
			strings.ContainsAny(id, "; =\r\n") {
			return
		}
		unix %= 253402300800 // up to year 9999
		if unix < 0 {
			unix = -unix
		}
		mt := time.Unix(unix, 0).UTC()
		kind := "file"
		if dir {
			kind, size = "dir", 0
		}
		facts := "type=" + kind + ";size=" + strconv.FormatInt(size, 10) + ";modify=" + mt.Format("20060102150405") + ";"
		if id != "" {
			facts += "unique=" + id + ";"
		}
		e, ok := parseMLSx(facts + " " + name)
		want := Entry{Name: name, Dir: dir, Size: size, ModTime: mt, ID: id}
		if !ok || e.Name != want.Name || e.Dir != want.Dir || e.Size != want.Size || !e.ModTime.Equal(want.ModTime) || e.ID != want.ID {
			t.Fatalf("round trip of %+v gave %+v, %v", want, e, ok)
		}
	})
}

// FuzzListing feeds a whole MLSD data stream through the same scanning and
// filtering as ctrlSession.mlsd and Pool.list: every entry that reaches
// the engine has a name that stays inside the listed directory.
func FuzzListing(f *testing.F) {
	f.Add("type=file;size=1; a\r\ntype=dir; b\r\ntype=cdir; .\r\n")
	f.Add("type=file;size=1; ..\r\ntype=file;size=1; x/y\ntype=file; \r\n")
	f.Add(strings.Repeat("type=file;size=1; long", 5000))
	f.Fuzz(func(t *testing.T, data string) {
		sc := bufio.NewScanner(strings.NewReader(data))
		sc.Buffer(make([]byte, 0, 4096), 64*1024)
		for sc.Scan() {
			e, ok := parseMLSx(sc.Text())
			if !ok || !validName(e.Name) {
				continue
			}
			if strings.ContainsAny(e.Name, "/\x00") || e.Name == "." || e.Name == ".." {
				t.Fatalf("unsafe name %q reached the engine", e.Name)
			}
		}
	})
}

// FuzzParseFeat feeds arbitrary FEAT replies to parseFeat, which must
// not panic and must only claim SHA-256 when HASH is offered.
func FuzzParseFeat(f *testing.F) {
	f.Add("Extensions supported:\n AUTH TLS\n HASH SHA-1;SHA-256*;MD5\n MLST type*;size*;\n MFMT\n REST STREAM\n UTF8\n SIZE\nEnd")
	f.Add(" HASH\n REST\n")
	f.Add("\n\n \n")
	f.Fuzz(func(t *testing.T, msg string) {
		c := parseFeat(msg)
		if c.HashSHA256 && !c.HASH {
			t.Fatalf("SHA-256 without HASH from %q", msg)
		}
	})
}

// FuzzParseBatchReply feeds hostile SITE BATCH replies to the client: it
// must never panic, never mark a file it did not send, and every file it
// counts as stored has a verified result.
func FuzzParseBatchReply(f *testing.F) {
	f.Add("Batch: 2 files, 1 stored.\n 0 226 type=file;size=3;modify=20240101000000; a\n 1 550 Permission denied.\nEnd.", 2)
	f.Add("x\n 5 226 type=file; a\n -1 226 b\n 0 abc\n 0\n", 3)
	f.Add("\n 0 451 SHA-256 mismatch\n 1 450 dropped\n", 2)
	f.Fuzz(func(t *testing.T, msg string, n int) {
		n = n%8 + 1
		if n < 1 {
			n = 1
		}
		files := make([]BatchFile, n+1)
		for i := range files {
			files[i] = BatchFile{Local: "l", Remote: "/d/f"}
		}
		sent := make([]int, n) // the last file was not sent
		for i := range sent {
			sent[i] = i
		}
		res := make([]BatchResult, len(files))
		seen := parseBatchReply(msg, sent, files, res)
		if seen < 0 {
			t.Fatalf("seen %d", seen)
		}
		if last := res[n]; last.Err != nil || last.Verified != "" {
			t.Fatalf("a file that was not sent got a result: %+v", last)
		}
		for i, r := range res[:n] {
			if r.Err == nil && r.Verified != "" && r.Verified != VerifiedHash {
				t.Fatalf("file %d stored with verification %q", i, r.Verified)
			}
		}
	})
}
