package server

import (
	"sort"
	"strings"
)

// command describes how the session runs one FTP verb.
type command struct {
	fn func(s *session, arg string)
	// open commands may be used before login.
	open bool
	// keepRest commands leave a pending REST offset in place.
	keepRest bool
	help     string
}

// commands is the dispatch table of every verb the server implements.
var commands map[string]command

func init() {
	commands = map[string]command{
		// Access control (RFC 959 4.1.1, RFC 2228, RFC 4217).
		"USER": {fn: (*session).handleUSER, open: true, help: "USER <name>"},
		"PASS": {fn: (*session).handlePASS, open: true, help: "PASS <password>"},
		"AUTH": {fn: (*session).handleAUTH, open: true, help: "AUTH TLS"},
		"PBSZ": {fn: (*session).handlePBSZ, open: true, help: "PBSZ 0"},
		"PROT": {fn: (*session).handlePROT, open: true, help: "PROT P|C"},
		"FEAT": {fn: (*session).handleFEAT, open: true, help: "FEAT"},
		"OPTS": {fn: (*session).handleOPTS, open: true, help: "OPTS UTF8 ON | MLST facts | HASH algo"},
		"QUIT": {fn: nil, open: true, help: "QUIT"},
		"NOOP": {fn: (*session).handleNOOP, help: "NOOP"},
		"SYST": {fn: (*session).handleSYST, help: "SYST"},
		"HELP": {fn: (*session).handleHELP, help: "HELP [command]"},
		"STAT": {fn: (*session).handleSTAT, help: "STAT [path]"},
		"SITE": {fn: (*session).handleSITE, help: "SITE HELP"},
		"ALLO": {fn: (*session).handleALLO, keepRest: true, help: "ALLO <size>"},
		"TYPE": {fn: (*session).handleTYPE, keepRest: true, help: "TYPE A|I"},
		"STRU": {fn: (*session).handleSTRU, help: "STRU F"},
		"MODE": {fn: (*session).handleMODE, help: "MODE S"},
		// Directories.
		"PWD":  {fn: (*session).handlePWD, help: "PWD"},
		"XPWD": {fn: (*session).handlePWD, help: "XPWD"},
		"CWD":  {fn: (*session).handleCWD, help: "CWD <path>"},
		"XCWD": {fn: (*session).handleCWD, help: "XCWD <path>"},
		"CDUP": {fn: (*session).handleCDUP, help: "CDUP"},
		"XCUP": {fn: (*session).handleCDUP, help: "XCUP"},
		"MKD":  {fn: (*session).handleMKD, help: "MKD <path>"},
		"XMKD": {fn: (*session).handleMKD, help: "XMKD <path>"},
		"RMD":  {fn: (*session).handleRMD, help: "RMD <path>"},
		"XRMD": {fn: (*session).handleRMD, help: "XRMD <path>"},
		"LIST": {fn: (*session).handleLIST, help: "LIST [path]"},
		"NLST": {fn: (*session).handleNLST, help: "NLST [path]"},
		"MLSD": {fn: (*session).handleMLSD, help: "MLSD [path]"},
		"MLST": {fn: (*session).handleMLST, help: "MLST [path]"},
		// Files.
		"RETR": {fn: (*session).handleRETR, help: "RETR <path>"},
		"STOR": {fn: (*session).handleSTOR, help: "STOR <path>"},
		"APPE": {fn: (*session).handleAPPE, help: "APPE <path>"},
		"STOU": {fn: (*session).handleSTOU, help: "STOU [path]"},
		"REST": {fn: (*session).handleREST, keepRest: true, help: "REST <offset>"},
		"DELE": {fn: (*session).handleDELE, help: "DELE <path>"},
		"RNFR": {fn: (*session).handleRNFR, help: "RNFR <path>"},
		"RNTO": {fn: (*session).handleRNTO, help: "RNTO <path>"},
		"SIZE": {fn: (*session).handleSIZE, keepRest: true, help: "SIZE <path>"},
		"MDTM": {fn: (*session).handleMDTM, keepRest: true, help: "MDTM <path>"},
		"MFMT": {fn: (*session).handleMFMT, help: "MFMT <YYYYMMDDHHMMSS> <path>"},
		"HASH": {fn: (*session).handleHASH, help: "HASH <path>"},
		"ABOR": {fn: (*session).handleABOR, help: "ABOR"},
		// Data connections.
		"PASV": {fn: (*session).handlePASV, keepRest: true, help: "PASV"},
		"EPSV": {fn: (*session).handleEPSV, keepRest: true, help: "EPSV [ALL|proto]"},
		"PORT": {fn: (*session).handlePORT, keepRest: true, help: "PORT h1,h2,h3,h4,p1,p2"},
		"EPRT": {fn: (*session).handleEPRT, keepRest: true, help: "EPRT |proto|addr|port|"},
	}
}

// dispatch runs one command and reports whether the session must end.
func (s *session) dispatch(verb, arg string) (quit bool) {
	cmd, ok := commands[verb]
	if !ok {
		s.reply(codeSyntaxError, "Unknown command "+quoteVerb(verb)+".")
		return false
	}
	if verb == "QUIT" {
		s.reply(codeClosing, "Goodbye.")
		return true
	}
	if !cmd.open && s.user == nil {
		s.reply(codeNotLoggedIn, "Please log in with USER and PASS.")
		return false
	}
	if s.user != nil && !s.srv.users.Load().current(s.user) {
		// A reload (SIGHUP) removed or changed this account.
		s.log.Info("account removed or changed by a reload; session closed", "user", s.user.Name)
		s.reply(codeUnavailable, "Your account was changed or removed; log in again.")
		return true
	}
	if verb != "RNTO" {
		defer func(rnfr string) {
			if s.rnfr == rnfr {
				s.rnfr = ""
			}
		}(s.rnfr)
	}
	if consumesExpects(verb) {
		defer clear(s.expects)
	}
	if !cmd.keepRest && !isTransferVerb(verb) {
		s.rest = 0
	}
	cmd.fn(s, arg)
	return s.quit
}

func isTransferVerb(verb string) bool {
	switch verb {
	case "RETR", "STOR", "APPE", "STOU":
		return true
	}
	return false
}

// quoteVerb keeps an unknown verb printable and short in a reply.
func quoteVerb(v string) string {
	if len(v) > 16 {
		v = v[:16]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, v)
}

func (s *session) handleHELP(arg string) {
	if arg != "" {
		if c, ok := commands[strings.ToUpper(arg)]; ok {
			s.reply(codeHelp, "Syntax: "+c.help)
			return
		}
		s.reply(codeParamSyntax, "Unknown command "+quoteVerb(arg)+".")
		return
	}
	verbs := make([]string, 0, len(commands))
	for v := range commands {
		verbs = append(verbs, v)
	}
	sort.Strings(verbs)
	var lines []string
	for i := 0; i < len(verbs); i += 8 {
		lines = append(lines, strings.Join(verbs[i:min(i+8, len(verbs))], " "))
	}
	s.replyLines(codeHelp, "The following commands are recognized:", lines, "Help OK.")
}
