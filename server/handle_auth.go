package server

import (
	"strings"
	"time"

	"github.com/syncagent/syncagent/server/ftpfs"
)

func (s *session) handleUSER(arg string) {
	if s.user != nil {
		s.reply(codeNotLoggedIn, "Already logged in; cannot change to another user.")
		return
	}
	if arg == "" {
		s.reply(codeParamSyntax, "USER needs a name.")
		return
	}
	if s.srv.Config.TLS.Require && !s.tlsOn {
		s.reply(codeNotLoggedIn, "This server requires TLS: use AUTH TLS before logging in.")
		return
	}
	if isAnonymous(arg) {
		s.userName = ""
		s.reply(codeNotLoggedIn, "Anonymous login is not allowed.")
		return
	}
	if !s.tlsOn && s.srv.users.Load().requiresTLS(arg) {
		// Refused before the password is sent in the clear.
		s.reply(codeNotLoggedIn, "This account requires TLS: use AUTH TLS before logging in.")
		return
	}
	s.userName = arg
	if s.srv.users.Load().certUser(arg, s.tlsState()) != nil {
		// RFC 4217 allows 232 here, but common clients (jlaffaye/ftp among
		// them) only accept 230 or 331 after USER; so the certificate is
		// announced and any PASS completes the login.
		s.reply(codeNeedPassword, "Client certificate accepted for "+arg+"; send any password.")
		return
	}
	s.reply(codeNeedPassword, "Password required for "+arg+".")
}

func (s *session) handlePASS(arg string) {
	if s.user != nil {
		s.reply(codeBadSequence, "Already logged in.")
		return
	}
	if s.userName == "" {
		s.reply(codeBadSequence, "Send USER first.")
		return
	}
	if s.srv.bans.banned(s.remoteIP.String(), time.Now()) {
		// Checked at every PASS, not only at connect: a connection opened
		// before the ban buys no extra guesses.
		s.userName = ""
		s.reply(codeUnavailable, "Too many failed logins from your address; try later.")
		s.quit = true
		return
	}
	name := s.userName
	start := time.Now()
	users := s.srv.users.Load()
	u := users.certUser(name, s.tlsState())
	if u == nil {
		u = users.checkPassword(name, arg)
	}
	if u == nil {
		s.loginFailed(name, start)
		return
	}
	if s.login(u) {
		s.reply(codeLoggedIn, "User "+u.Name+" logged in.")
	}
}

// loginFailed counts the failure against the client's IP, replies once
// the login fail delay has passed since the PASS arrived (at start), and
// ends the session once the IP is banned. Timing the reply from the PASS,
// not from the end of the password check, makes it arrive at the same time
// whatever that check cost (an unknown name, a hash of another bcrypt
// cost), as long as the check is shorter than the delay.
func (s *session) loginFailed(name string, start time.Time) {
	s.userName = ""
	ip := s.remoteIP.String()
	banned := s.srv.bans.fail(ip, time.Now())
	s.log.Warn("login failed", "user", name, "banned", banned)
	wait := time.NewTimer(time.Until(start.Add(s.srv.loginFailDelay())))
	defer wait.Stop()
	select {
	case <-wait.C:
	case <-s.srv.doneCh:
	}
	if banned {
		s.reply(codeUnavailable, "Too many failed logins; closing control connection.")
		s.quit = true
		return
	}
	s.reply(codeNotLoggedIn, "Login incorrect.")
}

// login opens the user's jailed file system and completes the login.
func (s *session) login(u *UserConfig) bool {
	if s.srv.versionsErr != nil {
		// Without its store the server would lose replaced files silently.
		s.log.Error("version store unavailable", "user", u.Name, "err", s.srv.versionsErr)
		s.reply(codeLocalError, "Cannot open the version store.")
		return false
	}
	fsys, err := ftpfs.Open(s.srv.Config.Root, u.Home, ftpfs.Options{ReadOnly: u.ReadOnly, Versions: s.srv.versions,
		ProtectVersions: u.AppendOnly, Digests: s.srv.digests, NoSync: !s.srv.Config.Fsync, Context: s.srv.stopCtx,
		HashUploads: func() bool { return s.srv.hashUsers.wants(u.Name, time.Now()) }})
	if err != nil {
		s.log.Error("open home", "user", u.Name, "err", err)
		s.reply(codeLocalError, "Cannot open your home directory.")
		return false
	}
	s.srv.bans.succeed(s.remoteIP.String())
	s.loginBy.Store(0)
	s.user = u
	s.userName = u.Name
	s.fs = newSessionFS(fsys, s.srv.versions, u)
	s.cwd = "/"
	s.log = s.log.With("user", u.Name)
	s.log.Info("login", "tls", s.tlsOn)
	return true
}

func (s *session) handleAUTH(arg string) {
	if s.srv.TLSConfig == nil {
		s.reply(codeNotImplemented, "TLS is not configured on this server.")
		return
	}
	switch strings.ToUpper(arg) {
	case "TLS", "TLS-C", "SSL":
	default:
		s.reply(codeParamNotImpl, "AUTH supports TLS only.")
		return
	}
	if s.tlsOn {
		s.reply(codeBadSequence, "TLS is already active.")
		return
	}
	s.reply(codeAuthOK, "AUTH TLS successful; start the TLS handshake.")
	if err := s.startTLS(); err != nil {
		s.log.Info("auth tls handshake failed", "err", err)
		s.quit = true
		return
	}
	s.r.Reset(s.conn)
	// RFC 4217 section 4: a fresh security context means a fresh login,
	// also for a session that logged in over plain text before.
	s.logout()
}

// logout forgets the login (after AUTH TLS): the session is back to where
// it was after the greeting, and the login deadline starts again.
func (s *session) logout() {
	if s.fs != nil {
		s.fs.Close()
		s.fs = nil
	}
	if s.user != nil {
		s.log.Info("logout: new security context", "user", s.user.Name)
		s.log = s.sessionLog()
	}
	s.user = nil
	s.userName = ""
	s.cwd = "/"
	s.rnfr, s.rest = "", 0
	s.closePassive()
	s.armLoginDeadline()
}

func (s *session) handlePBSZ(arg string) {
	if !s.tlsOn {
		s.reply(codeBadSequence, "PBSZ needs AUTH TLS first.")
		return
	}
	s.pbsz = true
	s.reply(codeOK, "PBSZ=0")
}

func (s *session) handlePROT(arg string) {
	if !s.tlsOn || !s.pbsz {
		s.reply(codeBadSequence, "PROT needs AUTH TLS and PBSZ first.")
		return
	}
	switch strings.ToUpper(arg) {
	case "P":
		s.protP = true
		s.reply(codeOK, "Protection level set to Private.")
	case "C":
		if s.srv.Config.TLS.Require || s.user != nil && s.user.TLSRequired {
			s.reply(codePolicyTLS, "This server requires protected data connections (PROT P).")
			return
		}
		s.protP = false
		s.reply(codeOK, "Protection level set to Clear.")
	default:
		s.reply(codeParamNotImpl, "PROT supports C and P.")
	}
}

// featLines are the extensions announced by FEAT (RFC 2389), without TLS.
var featLines = []string{
	"EPRT",
	"EPSV",
	"HASH SHA-256*;SHA-512;SHA-1;MD5;CRC32",
	"MDTM",
	"MFMT",
	"MLST type*;size*;modify*;unique*;perm*;",
	"REST STREAM",
	"SITE BATCH",
	"SITE EXPECT",
	"SITE TREE",
	"SIZE",
	"TVFS",
	"UTF8",
}

func (s *session) handleFEAT(string) {
	lines := featLines
	if s.srv.TLSConfig != nil {
		lines = append([]string{"AUTH TLS", "PBSZ", "PROT"}, lines...)
	}
	lines = s.markHashFeat(lines)
	s.replyLines(codeSystemStatus, "Extensions supported:", lines, "End")
}

// markHashFeat moves the '*' of the HASH line to the session's algorithm.
func (s *session) markHashFeat(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		if strings.HasPrefix(l, "HASH ") {
			algos := make([]string, len(hashAlgos))
			for j, a := range hashAlgos {
				algos[j] = a.name
				if a.name == s.hashAlgo {
					algos[j] += "*"
				}
			}
			l = "HASH " + strings.Join(algos, ";")
		}
		out[i] = l
	}
	return out
}

func (s *session) handleOPTS(arg string) {
	name, value, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(name) {
	case "UTF8", "UTF-8":
		switch strings.ToUpper(strings.TrimSpace(value)) {
		case "ON", "":
			s.reply(codeOK, "UTF8 mode is always on.")
		default:
			s.reply(codeParamNotImpl, "UTF8 cannot be turned off.")
		}
	case "MLST":
		if s.user == nil {
			s.reply(codeNotLoggedIn, "Please log in with USER and PASS.")
			return
		}
		s.setFacts(value)
		s.reply(codeOK, "MLST OPTS "+s.factList())
	case "HASH":
		if s.user == nil {
			s.reply(codeNotLoggedIn, "Please log in with USER and PASS.")
			return
		}
		value = strings.TrimSpace(value)
		if value == "" {
			s.reply(codeOK, s.hashAlgo)
			return
		}
		a := findHash(value)
		if a == nil {
			s.reply(codeParamNotImpl, "Unknown hash algorithm "+quoteVerb(value)+".")
			return
		}
		s.hashAlgo = a.name
		// Choosing an algorithm announces HASH commands to come.
		s.srv.hashUsers.note(s.user.Name, time.Now())
		s.reply(codeOK, a.name)
	default:
		s.reply(codeParamNotImpl, "Unknown option "+quoteVerb(name)+".")
	}
}

func (s *session) handleNOOP(string) { s.reply(codeOK, "NOOP ok.") }

func (s *session) handleSYST(string) { s.reply(codeSystemType, "UNIX Type: L8") }

func (s *session) handleSITE(arg string) {
	sub, rest, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(sub) {
	case "HELP", "":
		s.replyLines(codeHelp, "SITE commands:", []string{"HELP", "BATCH", "EXPECT <facts> <path>", "TREE [path]"}, "End.")
	case "BATCH":
		s.handleBatch()
	case "EXPECT":
		s.handleExpect(rest)
	case "TREE":
		s.handleTree(rest)
	default:
		// 500, one of the replies RFC 959 5.4 lists for SITE (and vsftpd's):
		// clients such as lftp's mirror, which sends SITE CHMOD after each
		// upload, take 500-502 as "not supported here" and stop asking.
		s.reply(codeSyntaxError, "Unknown SITE command "+quoteVerb(sub)+".")
	}
}

func (s *session) handleALLO(string) {
	s.reply(codeNotNeeded, "ALLO is not needed by this server.")
}

func (s *session) handleTYPE(arg string) {
	switch f := strings.Fields(strings.ToUpper(arg)); {
	case len(f) >= 1 && f[0] == "I", len(f) == 2 && f[0] == "L" && f[1] == "8":
		s.binary = true
		s.reply(codeOK, "Type set to I.")
	case len(f) == 1 && f[0] == "A", len(f) == 2 && f[0] == "A" && f[1] == "N":
		s.binary = false
		s.reply(codeOK, "Type set to A.")
	case len(f) == 0:
		s.reply(codeParamSyntax, "TYPE needs an argument.")
	default:
		s.reply(codeParamNotImpl, "Only TYPE A and TYPE I are supported.")
	}
}

func (s *session) handleSTRU(arg string) {
	if strings.EqualFold(arg, "F") {
		s.reply(codeOK, "Structure set to F.")
		return
	}
	s.reply(codeParamNotImpl, "Only STRU F is supported.")
}

func (s *session) handleMODE(arg string) {
	if strings.EqualFold(arg, "S") {
		s.reply(codeOK, "Mode set to S.")
		return
	}
	s.reply(codeParamNotImpl, "Only MODE S is supported.")
}
