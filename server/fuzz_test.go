package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzParseCommand feeds arbitrary bytes through the control channel's
// framing (readLine with its Telnet stripping) and parseCommand.
func FuzzParseCommand(f *testing.F) {
	for _, seed := range []string{
		"USER alice\r\nPASS x\r\n",
		"retr  a b.txt\r\n",
		"\xff\xf4\xff\xf2ABOR\r\n",
		"\xff\xff\xfbX\xfeNOOP\n",
		"  noop\r\r\n",
		"LIST -la\r\nQUIT",
		strings.Repeat("A", 4095) + "\n",
		strings.Repeat("A", 4096) + "\n",
		strings.Repeat("B", 5000),
		"stor \x00\r\n\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(data), maxLineLength)
		var partial []byte
		rest := data
		for range len(data) + 1 {
			line, err := readLine(r, &partial)
			// What the framing should have seen: the bytes up to the next LF.
			raw, tail, complete := bytes.Cut(rest, []byte("\n"))
			rest = tail
			rawLen := len(raw)
			if complete {
				rawLen++
			}
			if rawLen > maxLineLength {
				if !errors.Is(err, errLineTooLong) {
					t.Fatalf("line of %d bytes: err %v, want errLineTooLong", rawLen, err)
				}
				return
			}
			if err != nil {
				if !errors.Is(err, io.EOF) || complete {
					t.Fatalf("line of %d bytes (complete %v): err %v", rawLen, complete, err)
				}
				return
			}
			if !complete {
				t.Fatalf("got line %q without a LF", line)
			}
			if strings.ContainsAny(line, "\n") || strings.HasSuffix(line, "\r") {
				t.Fatalf("line %q keeps its end", line)
			}
			verb, arg := parseCommand(line)
			if verb != strings.ToUpper(verb) {
				t.Fatalf("verb %q is not upper case", verb)
			}
			if strings.ContainsAny(verb, "\r\n ") || strings.ContainsAny(arg, "\r\n") {
				t.Fatalf("parseCommand(%q) = %q, %q: CR, LF or blank kept", line, verb, arg)
			}
		}
		t.Fatal("readLine did not reach the end of the input")
	})
}

// fuzzServer is one loopback server per fuzzing process, with timeouts
// short enough that any command waiting for a data connection ends fast.
func fuzzServer(f *testing.F) *testServer {
	cfg := testConfig(f)
	cfg.Limits.MaxLoginFailures = 1 << 30 // random PASS lines must not ban 127.0.0.1
	cfg.Versions.Keep = 2
	return startServer(f, cfg, func(s *Server) {
		s.DataTimeout = 20 * time.Millisecond
		s.IdleTimeout = 2 * time.Second
		s.LoginFailDelay = time.Millisecond
	})
}

// FuzzSession sends random command lines to a logged-in session of a real
// server: it must never panic or hang, and must keep serving new clients.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{
		"PWD\r\nCWD ..\r\nMKD a\r\nRNFR a\r\nRNTO b\r\nRMD b\r\n",
		"EPSV\r\nSTOR x\r\nABOR\r\nSIZE x\r\n",
		"PASV\r\nRETR ../../etc/passwd\r\nREST 5\r\nEPSV ALL\r\nLIST -la /\r\n",
		"TYPE A\r\nSTRU F\r\nMODE S\r\nOPTS MLST type;size;\r\nMLST /\r\nOPTS HASH MD5\r\nHASH /\r\n",
		"USER bob\r\nPASS x\r\nAUTH TLS\r\nPBSZ 0\r\nPROT P\r\nFEAT\r\nHELP RETR\r\nSITE HELP\r\n",
		"PORT 127,0,0,1,4,0\r\nEPRT |2|::1|1025|\r\nSTAT /\r\nMFMT 20200101000000 /\r\nSTOU\r\n",
		"\xff\xf4\xff\xf2ABOR\r\nDELE \x00\r\nNLST \\\r\n" + strings.Repeat("X", 5000) + "\r\n",
	} {
		f.Add([]byte(seed))
	}
	ts := fuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1024 {
			// At most ~100 commands that each wait DataTimeout for a data
			// connection nobody opens: a few seconds per input.
			data = data[:1024]
		}
		conn, err := net.DialTimeout("tcp", ts.Addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		login := "USER alice\r\nPASS " + testPassword + "\r\n"
		go func() {
			conn.Write([]byte(login))
			conn.Write(data)
			conn.Write([]byte("\r\nQUIT\r\n"))
		}()
		if _, err := io.Copy(io.Discard, conn); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("session did not end after QUIT: %v; input %q", err, data)
			}
		}
		// The server still serves a fresh client.
		c := dialCtrl(t, ts.Addr, "")
		c.must(530, "PWD")
		c.login("bob")
		c.must(257, "PWD")
		c.must(221, "QUIT")
	})
}
