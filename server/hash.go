package server

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strings"
	"time"
)

// hashAlgo is one algorithm of the HASH command (draft-bryan-ftpext-hash).
type hashAlgo struct {
	name string
	new  func() hash.Hash
}

// hashAlgos lists the algorithms in FEAT order; SHA-256 is the default.
var hashAlgos = []hashAlgo{
	{"SHA-256", sha256.New},
	{"SHA-512", sha512.New},
	{"SHA-1", sha1.New},
	{"MD5", md5.New},
	{"CRC32", func() hash.Hash { return crc32.NewIEEE() }},
}

func findHash(name string) *hashAlgo {
	for i := range hashAlgos {
		if strings.EqualFold(hashAlgos[i].name, name) {
			return &hashAlgos[i]
		}
	}
	return nil
}

// handleHASH replies "213 ALGO START-END HEX PATH" where START-END is the
// byte range hashed (END is the offset after the last byte: the file size).
func (s *session) handleHASH(arg string) {
	if !s.needArg("HASH", arg) {
		return
	}
	if s.user != nil {
		s.srv.hashUsers.note(s.user.Name, time.Now())
	}
	p, ok := s.resolve(arg)
	if !ok {
		return
	}
	f, err := s.openForRead(p)
	if err != nil {
		s.replyError("hash", err)
		return
	}
	defer f.Close()
	a := findHash(s.hashAlgo)
	if a.name == "SHA-256" {
		// A file the server just received: hashed on the way in.
		if sum, n, ok := s.srv.digests.LookupSHA256(f); ok {
			s.reply(codeFileStatus, fmt.Sprintf("%s 0-%d %s %s", a.name, n, hex.EncodeToString(sum[:]), arg))
			return
		}
	}
	h := a.new()
	n, err := io.Copy(h, f)
	if err != nil {
		s.replyError("hash", err)
		return
	}
	s.reply(codeFileStatus, fmt.Sprintf("%s 0-%d %s %s", a.name, n, hex.EncodeToString(h.Sum(nil)), arg))
}
