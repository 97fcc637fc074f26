#!/usr/bin/env python3
"""Interoperability checks of syncserver with Python's ftplib (stdlib only).

Run by server/interop_test.go:

    ftplib_client.py plain HOST PORT USER PASSWORD CAFILE SCRATCH
    ftplib_client.py tls   HOST PORT USER PASSWORD CAFILE SCRATCH

Prints one line per check ("ok   NAME") and exits non-zero at the first
failure ("FAIL NAME: why"). In plain mode it leaves every file it uploaded
under SCRATCH/expect/<path>, so the Go test can compare the server's bytes
on disk with what was sent. The Go test seeds seed/lf.txt, seed/crlf.txt
and seed/big.bin in the user's home first (see SEED_* below).
"""

import ftplib
import hashlib
import io
import os
import random
import re
import socket
import ssl
import sys
import traceback
import zlib

TIMEOUT = 30

# What the Go test writes into the user's home before plain mode runs.
SEED_LF = b"alpha\nbeta\n\ngamma \xc3\xbc\n"
SEED_CRLF = b"one\r\ntwo\r\n"
SEED_BIG_SIZE = 64 << 20

FEAT_HASH = " HASH SHA-256*;SHA-512;SHA-1;MD5;CRC32"
FEAT_MLST = " MLST type*;size*;modify*;unique*;perm*;"


class CheckFailed(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise CheckFailed(why)


class Checks:
    def __init__(self, host, port, user, password, cafile, scratch):
        self.host, self.port = host, int(port)
        self.user, self.password = user, password
        self.cafile, self.scratch = cafile, scratch
        self.ftp = None
        rnd = random.Random(20240601)
        self.blob = rnd.randbytes(300_000)

    def run(self, checks):
        for name, fn in checks:
            try:
                detail = fn()
            except Exception as e:  # any error fails the check, with detail
                print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
                traceback.print_exc(file=sys.stdout)
                sys.stdout.flush()
                sys.exit(1)
            print("ok   %s%s" % (name, " (%s)" % detail if detail else ""))
            sys.stdout.flush()

    def keep(self, path, data):
        """Records what PATH must hold on the server's disk."""
        p = os.path.join(self.scratch, "expect", path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)

    def retr(self, path, rest=None):
        out = io.BytesIO()
        self.ftp.retrbinary("RETR " + path, out.write, rest=rest)
        return out.getvalue()

    # ---- plain mode -----------------------------------------------------

    def login(self):
        self.ftp = ftplib.FTP(timeout=TIMEOUT)
        welcome = self.ftp.connect(self.host, self.port)
        expect(welcome.startswith("220"), "greeting %r" % welcome)
        resp = self.ftp.login(self.user, self.password)
        expect(resp.startswith("230"), "login reply %r" % resp)
        expect(self.ftp.pwd() == "/", "pwd after login")

    def bad_login(self):
        f = ftplib.FTP(timeout=TIMEOUT)
        f.connect(self.host, self.port)
        try:
            f.login(self.user, "wrong-password")
        except ftplib.error_perm as e:
            expect(str(e).startswith("530"), "bad password reply %r" % e)
        else:
            raise CheckFailed("wrong password accepted")
        f.close()

    def feat(self):
        resp = self.ftp.sendcmd("FEAT")
        lines = resp.split("\n")
        expect(lines[0].startswith("211-"), "FEAT first line %r" % lines[0])
        expect(lines[-1].startswith("211 "), "FEAT last line %r" % lines[-1])
        for want in (FEAT_HASH, FEAT_MLST, " MDTM", " MFMT", " SIZE", " EPSV", " REST STREAM", " UTF8"):
            expect(want in lines, "FEAT lacks %r: %r" % (want, lines))

    def opts_utf8(self):
        expect(self.ftp.sendcmd("OPTS UTF8 ON").startswith("200"), "OPTS UTF8 ON")

    def simple_commands(self):
        expect(self.ftp.sendcmd("NOOP").startswith("200"), "NOOP")
        expect(self.ftp.sendcmd("STRU F").startswith("200"), "STRU F")
        expect(self.ftp.sendcmd("MODE S").startswith("200"), "MODE S")
        expect(self.ftp.sendcmd("ALLO 4096").startswith("202"), "ALLO")
        expect(self.ftp.sendcmd("TYPE I").startswith("200"), "TYPE I")
        for bad in ("STRU R", "MODE B"):
            try:
                self.ftp.sendcmd(bad)
            except ftplib.error_perm as e:
                expect(str(e).startswith("504"), "%s reply %r" % (bad, e))
            else:
                raise CheckFailed(bad + " accepted")
        expect(self.ftp.sendcmd("SYST").startswith("215"), "SYST")

    def help(self):
        resp = self.ftp.sendcmd("HELP")
        expect(resp.startswith("214-") and resp.split("\n")[-1].startswith("214 "), "HELP framing %r" % resp)
        for verb in ("RETR", "MLSD", "HASH", "EPSV", "MFMT"):
            expect(verb in resp, "HELP lacks " + verb)
        resp = self.ftp.sendcmd("HELP RETR")
        expect(resp.startswith("214") and "RETR" in resp, "HELP RETR %r" % resp)
        resp = self.ftp.sendcmd("SITE HELP")
        expect(resp.startswith("214") and "HELP" in resp, "SITE HELP %r" % resp)
        # An unknown SITE command is answered 500 (RFC 959 5.4), which lftp
        # and others take as "not supported"; 504 made lftp's mirror count
        # every SITE CHMOD as a failure.
        try:
            self.ftp.sendcmd("SITE CHMOD 644 nothing")
        except ftplib.error_perm as e:
            expect(str(e).startswith("500 "), "SITE CHMOD reply %r" % e)
        else:
            raise CheckFailed("SITE CHMOD accepted")

    def ascii_upload(self):
        # storlines sends CRLF line ends; TYPE A stores them as LF.
        text = b"first line\nsecond \xc3\xa4 line\n\nlast line\n"
        resp = self.ftp.storlines("STOR ascii.txt", io.BytesIO(text))
        expect(resp.startswith("226"), "storlines reply %r" % resp)
        self.keep("ascii.txt", text)
        expect(self.ftp.size("ascii.txt") == len(text), "SIZE of ascii.txt is not the LF size")
        expect(self.retr("ascii.txt") == text, "TYPE I read-back of ascii.txt")

    def ascii_download(self):
        lines = []
        self.ftp.retrlines("RETR seed/lf.txt", lines.append)
        want = SEED_LF.decode("utf-8").split("\n")[:-1]
        expect(lines == want, "retrlines gave %r, want %r" % (lines, want))
        # On the wire, TYPE A has CRLF; a file already in CRLF is not doubled.
        for path, want in (("seed/lf.txt", SEED_LF.replace(b"\n", b"\r\n")), ("seed/crlf.txt", SEED_CRLF)):
            self.ftp.voidcmd("TYPE A")
            with self.ftp.transfercmd("RETR " + path) as conn:
                raw = read_all(conn)
            self.ftp.voidresp()
            expect(raw == want, "TYPE A bytes of %s: %r, want %r" % (path, raw, want))

    def binary_round_trip(self):
        resp = self.ftp.storbinary("STOR binary.bin", io.BytesIO(self.blob))
        expect(resp.startswith("226"), "storbinary reply %r" % resp)
        self.keep("binary.bin", self.blob)
        expect(self.retr("binary.bin") == self.blob, "binary round trip differs")
        expect(self.ftp.size("binary.bin") == len(self.blob), "SIZE of binary.bin")

    def mkd_rmd(self):
        made = self.ftp.mkd("dir ü")
        expect(made == "/dir ü", "MKD returned %r" % made)
        self.ftp.mkd("dir ü/sub")
        self.ftp.cwd("dir ü")
        expect(self.ftp.pwd() == "/dir ü", "pwd in dir")
        self.ftp.storbinary("STOR spaced name ä.txt", io.BytesIO(b"spaced"))
        self.keep("dir ü/spaced name ä.txt", b"spaced")
        self.ftp.cwd("..")
        self.ftp.mkd("gone")
        self.ftp.rmd("gone")
        expect("gone" not in self.ftp.nlst(), "RMD left the directory")

    def nlst_list(self):
        names = self.ftp.nlst("dir ü")
        expect(sorted(names) == ["spaced name ä.txt", "sub"], "NLST dir: %r" % names)
        names = self.ftp.nlst()
        for want in ("ascii.txt", "binary.bin", "dir ü", "seed"):
            expect(want in names, "NLST lacks %r: %r" % (want, names))
        lines = []
        self.ftp.dir("dir ü", lines.append)
        expect(len(lines) == 2, "LIST lines %r" % lines)
        byname = {l.split(None, 8)[8]: l for l in lines}
        expect(byname["spaced name ä.txt"].startswith("-") and byname["spaced name ä.txt"].split()[4] == "6",
               "LIST file line %r" % byname)
        expect(byname["sub"].startswith("d"), "LIST dir line %r" % byname)
        lines = []
        self.ftp.retrlines("LIST -la dir ü", lines.append)
        expect(len(lines) == 2, "LIST -la lines %r" % lines)

    def mlsd_mlst(self):
        entries = dict(self.ftp.mlsd(""))
        for name in ("ascii.txt", "binary.bin", "dir ü", "seed"):
            expect(name in entries, "MLSD lacks %r: %r" % (name, list(entries)))
        uniques = set()
        for name, facts in entries.items():
            for fact in ("type", "size", "modify", "unique", "perm"):
                expect(fact in facts, "MLSD %r lacks %s: %r" % (name, fact, facts))
            expect(re.fullmatch(r"\d{14}(\.\d{1,3})?", facts["modify"]), "modify %r" % facts["modify"])
            uniques.add(facts["unique"])
        expect(len(uniques) == len(entries), "unique facts repeat: %r" % entries)
        b = entries["binary.bin"]
        expect(b["type"] == "file" and int(b["size"]) == len(self.blob), "binary.bin facts %r" % b)
        expect(b["perm"] == "adfrw", "file perm %r" % b["perm"])
        mdtm = self.ftp.sendcmd("MDTM binary.bin")[4:].strip()
        expect(b["modify"][:14] == mdtm, "modify %r vs MDTM %r" % (b["modify"], mdtm))
        d = entries["dir ü"]
        expect(d["type"] == "dir" and d["perm"] == "cdeflmp", "dir facts %r" % d)
        expect(not any(f["type"] in ("cdir", "pdir") for f in entries.values()), "cdir/pdir listed")
        # MLST: a 250 reply whose middle line is " facts name".
        resp = self.ftp.sendcmd("MLST binary.bin")
        lines = resp.split("\n")
        expect(lines[0].startswith("250-") and lines[-1].startswith("250 ") and len(lines) == 3, "MLST %r" % resp)
        expect(lines[1].startswith(" "), "MLST fact line lacks leading space %r" % lines[1])
        facts, _, name = lines[1][1:].partition(" ")
        expect(name == "/binary.bin", "MLST name %r" % name)
        fd = dict(f.split("=", 1) for f in facts.rstrip(";").split(";"))
        expect(fd == b, "MLST facts %r differ from MLSD %r" % (fd, b))
        # The unique fact follows a file through a rename.
        self.ftp.rename("binary.bin", "renamed.bin")
        moved = dict(self.ftp.mlsd(""))["renamed.bin"]
        expect(moved["unique"] == b["unique"], "unique changed on rename")
        self.ftp.rename("renamed.bin", "binary.bin")
        # OPTS MLST narrows the facts.
        only = dict(self.ftp.mlsd("", facts=["type", "size"]))["binary.bin"]
        expect(set(only) == {"type", "size"}, "OPTS MLST type;size gave %r" % only)
        self.ftp.sendcmd("OPTS MLST type;size;modify;unique;perm;")

    def size_mdtm_mfmt(self):
        self.ftp.storbinary("STOR mfmt.txt", io.BytesIO(b"timed"))
        self.keep("mfmt.txt", b"timed")
        resp = self.ftp.sendcmd("MFMT 20200102030405 mfmt.txt")
        expect(resp.startswith("213") and "Modify=20200102030405" in resp, "MFMT reply %r" % resp)
        expect(self.ftp.sendcmd("MDTM mfmt.txt") == "213 20200102030405", "MDTM after MFMT")
        expect(self.ftp.size("mfmt.txt") == 5, "SIZE mfmt.txt")
        facts = dict(self.ftp.mlsd(""))["mfmt.txt"]
        expect(facts["modify"].startswith("20200102030405"), "modify after MFMT %r" % facts)
        try:
            self.ftp.size("no-such-file")
        except ftplib.error_perm as e:
            expect(str(e).startswith("550"), "SIZE of missing file %r" % e)
        else:
            raise CheckFailed("SIZE of a missing file succeeded")

    def rest_retr(self):
        got = self.retr("binary.bin", rest=123_457)
        expect(got == self.blob[123_457:], "REST+RETR gave %d bytes" % len(got))
        got = self.retr("binary.bin", rest=len(self.blob))
        expect(got == b"", "REST at end gave %d bytes" % len(got))

    def rest_stor(self):
        cut = 100_003
        self.ftp.storbinary("STOR resumed.bin", io.BytesIO(self.blob[:cut]))
        fp = io.BytesIO(self.blob)
        fp.seek(cut)
        resp = self.ftp.storbinary("STOR resumed.bin", fp, rest=cut)
        expect(resp.startswith("226"), "REST+STOR reply %r" % resp)
        self.keep("resumed.bin", self.blob)
        expect(self.retr("resumed.bin") == self.blob, "resumed upload differs")

    def appe(self):
        self.ftp.storbinary("STOR appended.bin", io.BytesIO(b"head-"))
        resp = self.ftp.storbinary("APPE appended.bin", io.BytesIO(b"tail"))
        expect(resp.startswith("226"), "APPE reply %r" % resp)
        resp = self.ftp.storbinary("APPE appended-new.bin", io.BytesIO(b"fresh"))
        self.keep("appended.bin", b"head-tail")
        self.keep("appended-new.bin", b"fresh")
        expect(self.retr("appended.bin") == b"head-tail", "APPE content")

    def stou(self):
        names = []
        for body in (b"unique one", b"unique two"):
            self.ftp.voidcmd("TYPE I")
            conn, _ = self.ftp.ntransfercmd("STOU")
            conn.sendall(body)
            conn.close()
            resp = self.ftp.voidresp()
            m = re.search(r"unique file name: ([^)]+)\)", resp)
            expect(m, "STOU final reply names no file: %r" % resp)
            names.append(m.group(1))
            expect(self.retr(m.group(1)) == body, "STOU content of %s" % m.group(1))
            self.keep(m.group(1), body)
        expect(names[0] != names[1], "STOU picked %r twice" % names[0])

    def rename_dele(self):
        self.ftp.storbinary("STOR before.txt", io.BytesIO(b"moving"))
        resp = self.ftp.rename("before.txt", "dir ü/sub/after.txt")
        expect(resp.startswith("250"), "RNTO reply %r" % resp)
        self.keep("dir ü/sub/after.txt", b"moving")
        expect("before.txt" not in self.ftp.nlst(), "RNFR source still listed")
        self.ftp.storbinary("STOR doomed.txt", io.BytesIO(b"x"))
        expect(self.ftp.delete("doomed.txt").startswith("250"), "DELE reply")
        expect("doomed.txt" not in self.ftp.nlst(), "DELE left the file")
        try:
            self.ftp.sendcmd("RNTO nowhere")
        except ftplib.error_perm as e:
            expect(str(e).startswith("503"), "RNTO without RNFR %r" % e)
        else:
            raise CheckFailed("RNTO without RNFR accepted")

    def epsv_pasv(self):
        peer = self.ftp.sock.getpeername()
        self.ftp.voidcmd("TYPE I")
        host, port = ftplib.parse229(self.ftp.sendcmd("EPSV"), peer)
        with socket.create_connection((host, port), TIMEOUT) as conn:
            resp = self.ftp.sendcmd("RETR ascii.txt")
            expect(resp.startswith("150"), "RETR after EPSV %r" % resp)
            got = read_all(conn)
        self.ftp.voidresp()
        expect(got.startswith(b"first line\n"), "EPSV data %r" % got[:20])
        host, port = ftplib.parse227(self.ftp.sendcmd("PASV"))
        expect(host == self.host, "PASV announced %r" % host)
        with socket.create_connection((host, port), TIMEOUT) as conn:
            self.ftp.sendcmd("RETR ascii.txt")
            got2 = read_all(conn)
        self.ftp.voidresp()
        expect(got2 == got, "PASV data differs from EPSV data")

    def hash_cmd(self):
        data = self.blob
        algos = [
            ("SHA-256", hashlib.sha256(data).hexdigest()),
            ("SHA-512", hashlib.sha512(data).hexdigest()),
            ("MD5", hashlib.md5(data).hexdigest()),
            ("SHA-1", hashlib.sha1(data).hexdigest()),
            ("CRC32", "%08x" % zlib.crc32(data)),
        ]
        resp = self.ftp.sendcmd("HASH binary.bin")
        want = "213 SHA-256 0-%d %s binary.bin" % (len(data), algos[0][1])
        expect(resp == want, "default HASH %r, want %r" % (resp, want))
        for name, digest in algos[1:] + algos[:1]:
            resp = self.ftp.sendcmd("OPTS HASH " + name)
            expect(resp == "200 " + name, "OPTS HASH %s reply %r" % (name, resp))
            resp = self.ftp.sendcmd("HASH binary.bin")
            parts = resp.split(" ", 4)
            expect(parts[:3] == ["213", name, "0-%d" % len(data)] and parts[3] == digest,
                   "HASH %s: %r, want %s" % (name, resp, digest))
            feat = self.ftp.sendcmd("FEAT").split("\n")
            star = [l for l in feat if l.startswith(" HASH ")]
            expect(len(star) == 1 and (name + "*") in star[0], "FEAT after OPTS HASH %s: %r" % (name, star))
        try:
            self.ftp.sendcmd("OPTS HASH BLAKE9")
        except ftplib.error_perm as e:
            expect(str(e).startswith("504"), "unknown algorithm %r" % e)
        else:
            raise CheckFailed("unknown HASH algorithm accepted")
        expect(FEAT_HASH in self.ftp.sendcmd("FEAT").split("\n"), "FEAT HASH line after reset")

    def stat(self):
        resp = self.ftp.sendcmd("STAT")
        lines = resp.split("\n")
        expect(lines[0].startswith("211-") and lines[-1].startswith("211 "), "STAT framing %r" % resp)
        expect("Logged in as " + self.user in resp, "STAT lacks the user: %r" % resp)
        resp = self.ftp.sendcmd("STAT seed")
        lines = resp.split("\n")
        expect(lines[0].startswith("213-") and lines[-1].startswith("213 "), "STAT path framing %r" % resp)
        names = sorted(l.split(None, 8)[8] for l in lines[1:-1])
        expect(names == ["big.bin", "crlf.txt", "lf.txt"], "STAT seed names %r" % names)

    def abor(self):
        self.ftp.voidcmd("TYPE I")
        conn = self.ftp.transfercmd("RETR seed/big.bin")
        got = 0
        while got < (1 << 20):
            chunk = conn.recv(65536)
            expect(chunk, "data connection ended early")
            got += len(chunk)
        # The client stops reading, so the server is stuck mid-transfer when
        # ABOR arrives as urgent data.
        resp = self.ftp.abort()
        conn.close()
        replies = [resp]
        if resp.startswith("426"):
            replies.append(self.ftp.getmultiline())
        expect(replies[-1].startswith("226"), "ABOR replies %r" % replies)
        expect(self.ftp.sendcmd("NOOP").startswith("200"), "NOOP after ABOR")
        expect(self.ftp.size("seed/big.bin") == SEED_BIG_SIZE, "SIZE after ABOR")
        # Nothing is running: ABOR alone is answered 226 too.
        expect(self.ftp.abort().startswith("226"), "idle ABOR")
        return "replies: " + " | ".join(replies)

    def abor_stor(self):
        # ABOR mid-upload discards the upload and keeps the previous file.
        self.ftp.storbinary("STOR abort-stor.bin", io.BytesIO(b"previous"))
        self.keep("abort-stor.bin", b"previous")
        self.ftp.voidcmd("TYPE I")
        conn = self.ftp.transfercmd("STOR abort-stor.bin")
        conn.sendall(self.blob)
        resp = self.ftp.abort()
        conn.close()
        replies = [resp]
        if resp.startswith("426"):
            replies.append(self.ftp.getmultiline())
        expect(replies[-1].startswith("226"), "ABOR replies %r" % replies)
        expect(self.retr("abort-stor.bin") == b"previous", "aborted STOR replaced the file")
        return "replies: " + " | ".join(replies)

    def active_mode(self):
        # PORT (ftplib's default for IPv4 when passive is off), both ways.
        self.ftp.set_pasv(False)
        try:
            expect(self.retr("binary.bin") == self.blob, "RETR over PORT differs")
            self.ftp.storbinary("STOR active.bin", io.BytesIO(self.blob[:5000]))
            self.keep("active.bin", self.blob[:5000])
            expect("active.bin" in self.ftp.nlst(), "NLST over PORT")
        finally:
            self.ftp.set_pasv(True)
        # EPRT, by hand.
        self.ftp.voidcmd("TYPE I")
        with socket.create_server((self.host, 0)) as ln:
            ln.settimeout(TIMEOUT)
            port = ln.getsockname()[1]
            resp = self.ftp.sendcmd("EPRT |1|%s|%d|" % (self.host, port))
            expect(resp.startswith("200"), "EPRT reply %r" % resp)
            resp = self.ftp.sendcmd("RETR active.bin")
            expect(resp.startswith("150"), "RETR after EPRT %r" % resp)
            conn, _ = ln.accept()
            with conn:
                got = read_all(conn)
        self.ftp.voidresp()
        expect(got == self.blob[:5000], "EPRT data differs")
        # Never to a privileged port (no FTP bounce).
        try:
            self.ftp.sendcmd("EPRT |1|%s|21|" % self.host)
        except ftplib.error_perm as e:
            expect(str(e).startswith("501"), "EPRT to port 21 %r" % e)
        else:
            raise CheckFailed("EPRT to port 21 accepted")

    def quit(self):
        resp = self.ftp.quit()
        expect(resp.startswith("221"), "QUIT reply %r" % resp)

    def plain(self):
        return [
            ("login", self.login),
            ("wrong password refused", self.bad_login),
            ("FEAT", self.feat),
            ("OPTS UTF8", self.opts_utf8),
            ("NOOP STRU MODE ALLO TYPE SYST", self.simple_commands),
            ("HELP and SITE HELP", self.help),
            ("TYPE A upload (storlines)", self.ascii_upload),
            ("TYPE A download (retrlines)", self.ascii_download),
            ("TYPE I round trip", self.binary_round_trip),
            ("MKD/CWD/RMD", self.mkd_rmd),
            ("NLST and LIST", self.nlst_list),
            ("MLSD and MLST", self.mlsd_mlst),
            ("SIZE MDTM MFMT", self.size_mdtm_mfmt),
            ("REST+RETR", self.rest_retr),
            ("REST+STOR", self.rest_stor),
            ("APPE", self.appe),
            ("STOU", self.stou),
            ("RNFR/RNTO and DELE", self.rename_dele),
            ("EPSV and PASV", self.epsv_pasv),
            ("HASH", self.hash_cmd),
            ("STAT", self.stat),
            ("ABOR during RETR", self.abor),
            ("ABOR during STOR", self.abor_stor),
            ("PORT and EPRT", self.active_mode),
            ("QUIT", self.quit),
        ]

    # ---- tls mode -------------------------------------------------------

    def tls_context(self):
        ctx = ssl.create_default_context(cafile=self.cafile)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def tls_login(self):
        self.ftp = SessionReusingFTP_TLS(context=self.tls_context(), timeout=TIMEOUT)
        self.ftp.connect(self.host, self.port)
        resp = self.ftp.login(self.user, self.password)
        expect(resp.startswith("230"), "login %r" % resp)
        expect(isinstance(self.ftp.sock, ssl.SSLSocket), "control connection not TLS")
        expect(self.ftp.sock.version() == "TLSv1.2", "TLS version %r" % self.ftp.sock.version())
        expect(self.ftp.prot_p().startswith("200"), "PROT P")

    def tls_transfers(self):
        resp = self.ftp.storbinary("STOR tls.bin", io.BytesIO(self.blob))
        expect(resp.startswith("226"), "STOR over TLS %r" % resp)
        expect(self.ftp.data_resumed == [True], "STOR data connection did not resume: %r" % self.ftp.data_resumed)
        expect(self.retr("tls.bin") == self.blob, "RETR over TLS differs")
        self.ftp.storlines("STOR tls.txt", io.BytesIO(b"a\nb\n"))
        lines = []
        self.ftp.retrlines("RETR tls.txt", lines.append)
        expect(lines == ["a", "b"], "retrlines over TLS %r" % lines)
        expect("tls.bin" in self.ftp.nlst(), "NLST over TLS")
        expect(dict(self.ftp.mlsd(""))["tls.bin"]["size"] == str(len(self.blob)), "MLSD over TLS")
        expect(all(self.ftp.data_resumed) and len(self.ftp.data_resumed) == 6,
               "data connections resumed: %r" % self.ftp.data_resumed)

    def tls_without_session(self):
        # Stock FTP_TLS starts a fresh TLS session on each data connection;
        # the server must refuse it (425) and keep the session usable.
        f = ftplib.FTP_TLS(context=self.tls_context(), timeout=TIMEOUT)
        f.connect(self.host, self.port)
        f.login(self.user, self.password)
        f.prot_p()
        try:
            f.nlst()
        except ftplib.error_temp as e:
            resp = str(e)
        except (ssl.SSLError, OSError, EOFError) as e:
            resp = f.getmultiline()
            resp = "%s, then %s" % (type(e).__name__, resp)
        else:
            raise CheckFailed("data connection without session reuse was accepted")
        expect("425" in resp, "refusal reply %r" % resp)
        expect(f.sendcmd("NOOP").startswith("200"), "NOOP after refused data connection")
        f.quit()
        return resp

    def tls_plain_refused(self):
        f = ftplib.FTP(timeout=TIMEOUT)
        f.connect(self.host, self.port)
        try:
            f.login(self.user, self.password)
        except ftplib.error_perm as e:
            expect(str(e).startswith("530"), "plain login reply %r" % e)
        else:
            raise CheckFailed("login without TLS accepted")
        f.close()

    def tls(self):
        return [
            ("FTPS login (TLS 1.2)", self.tls_login),
            ("FTPS transfers resume the session", self.tls_transfers),
            ("FTPS data connection without session refused", self.tls_without_session),
            ("plain login refused", self.tls_plain_refused),
            ("QUIT", self.quit),
        ]


class SessionReusingFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS that resumes the control connection's TLS session on every
    data connection, as servers requiring session reuse want. It records
    whether each data connection did resume in data_resumed."""

    data_resumed = None

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
            if self.data_resumed is None:
                self.data_resumed = []
            self.data_resumed.append(conn.session_reused)
        return conn, size


def read_all(conn):
    chunks = []
    while True:
        b = conn.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def main(argv):
    if len(argv) != 8 or argv[1] not in ("plain", "tls"):
        print("usage: ftplib_client.py plain|tls HOST PORT USER PASSWORD CAFILE SCRATCH")
        return 2
    c = Checks(*argv[2:])
    c.run(c.plain() if argv[1] == "plain" else c.tls())
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
