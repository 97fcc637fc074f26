package server

// FTP reply codes used by the server, with the RFC section that defines each.
const (
	codeRestartMarker    = 110 // RFC 959 4.2: restart marker reply
	codeDataOpening      = 150 // RFC 959: file status okay; about to open data connection
	codeOK               = 200 // RFC 959: command okay
	codeNotNeeded        = 202 // RFC 959: command not implemented, superfluous at this site
	codeSystemStatus     = 211 // RFC 959: system status, or FEAT (RFC 2389 3.2)
	codeDirStatus        = 212 // RFC 959: directory status
	codeFileStatus       = 213 // RFC 959: file status (SIZE, MDTM, MFMT, HASH, STAT path)
	codeHelp             = 214 // RFC 959: help message
	codeSystemType       = 215 // RFC 959: NAME system type
	codeReady            = 220 // RFC 959: service ready for new user
	codeClosing          = 221 // RFC 959: service closing control connection
	codeTransferComplete = 226 // RFC 959: closing data connection, requested action successful
	codePassive          = 227 // RFC 959: entering passive mode (h1,h2,h3,h4,p1,p2)
	codeExtPassive       = 229 // RFC 2428: entering extended passive mode (|||port|)
	codeLoggedIn         = 230 // RFC 959: user logged in, proceed
	codeAuthOK           = 234 // RFC 2228: security data exchange complete (AUTH TLS accepted)
	codeFileOK           = 250 // RFC 959: requested file action okay, completed
	codePathCreated      = 257 // RFC 959: "PATHNAME" created / current directory
	codeNeedPassword     = 331 // RFC 959: user name okay, need password
	codePending          = 350 // RFC 959: requested file action pending further information (REST, RNFR)
	codeUnavailable      = 421 // RFC 959: service not available, closing control connection
	codeCantOpenData     = 425 // RFC 959: can't open data connection
	codeTransferAborted  = 426 // RFC 959: connection closed; transfer aborted
	codeFileBusy         = 450 // RFC 959: requested file action not taken (file busy, retry)
	codeLocalError       = 451 // RFC 959: requested action aborted: local error in processing
	codeSyntaxError      = 500 // RFC 959: syntax error, command unrecognized (or line too long)
	codeParamSyntax      = 501 // RFC 959: syntax error in parameters or arguments
	codeNotImplemented   = 502 // RFC 959: command not implemented
	codeBadSequence      = 503 // RFC 959: bad sequence of commands
	codeParamNotImpl     = 504 // RFC 959: command not implemented for that parameter
	codeProtoNotSupp     = 522 // RFC 2428: network protocol not supported
	codeNotLoggedIn      = 530 // RFC 959: not logged in
	codeNeedProtection   = 521 // RFC 4217 9: data connection cannot be opened with this PROT setting
	codePolicyTLS        = 534 // RFC 2228: request denied for policy reasons
	codeFileUnavailable  = 550 // RFC 959: requested action not taken: file unavailable
	codeExceededStorage  = 552 // RFC 959: requested file action aborted: exceeded storage allocation
	codeBadFileName      = 553 // RFC 959: requested action not taken: file name not allowed
	codeInvalidRestart   = 554 // RFC 3659 5.4: requested action not taken: invalid REST parameter
)

// maxLineLength is the longest command line accepted, CRLF included; a longer
// line closes the session (README, "Hardening").
const maxLineLength = 4096
