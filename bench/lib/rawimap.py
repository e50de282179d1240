"""A minimal IMAP client over a plain loopback socket, for the benchmark's own tools.

Used by bench/gen_corpus (seeding the source, pipelined MULTIAPPEND) and bench/lib/check.py
(verifying a destination). It shares no code with mailferry, so a bug in mailferry's client
cannot hide itself in the check. Loopback only, plain IMAP only (the bench servers run without
TLS: MF_DOVECOT_SSL=no), no state.

Responses are read as (text, literals): `text` is the response with every literal replaced by
the placeholder b"\\x00LIT<i>\\x00", `literals` the literal contents in order.
"""

import re
import socket

LOOPBACK = ("127.0.0.1", "::1", "localhost")
_LIT_RE = re.compile(rb"\{(\d+)\+?\}\r\n$")


class ImapError(Exception):
    pass


def quote(s):
    """An IMAP quoted string (RFC 3501 section 4.3) of a 7-bit text without CR/LF."""
    if isinstance(s, str):
        s = s.encode("utf-8")
    if any(c in s for c in b"\r\n\0"):
        raise ValueError("cannot quote a string with CR, LF or NUL")
    return b'"' + s.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


class Conn:
    def __init__(self, host, port, timeout=300):
        if host not in LOOPBACK:
            raise SystemExit("refusing to connect to %s: the bench talks to loopback only" % host)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb", buffering=1 << 20)
        self.tagn = 0
        greeting = self.rfile.readline()
        if not greeting.startswith(b"* OK"):
            raise ImapError("unexpected greeting %r" % greeting)
        self.caps = set()

    def tag(self):
        self.tagn += 1
        return b"B%d" % self.tagn

    def send(self, data):
        self.sock.sendall(data)

    def read_response(self):
        """One whole response: (text, [literals])."""
        parts, lits = [], []
        while True:
            line = self.rfile.readline()
            if not line:
                raise ImapError("connection closed by server")
            m = _LIT_RE.search(line)
            if not m:
                parts.append(line)
                break
            parts.append(line[:m.start()] + b"\x00LIT%d\x00" % len(lits))
            n = int(m.group(1))
            data = self.rfile.read(n)
            if len(data) != n:
                raise ImapError("connection closed inside a literal")
            lits.append(data)
        return b"".join(parts), lits

    def command(self, *args, on_untagged=None):
        """Sends one command (args joined by spaces) and returns its untagged responses.

        Raises ImapError on NO/BAD. on_untagged(text, lits), if given, receives untagged
        responses instead of collecting them (big FETCHes)."""
        tag = self.tag()
        self.send(tag + b" " + b" ".join(a if isinstance(a, bytes) else a.encode() for a in args)
                  + b"\r\n")
        return self.wait(tag, on_untagged)

    def wait(self, tag, on_untagged=None):
        out = []
        while True:
            text, lits = self.read_response()
            if text.startswith(tag + b" "):
                status = text[len(tag) + 1:].split(b" ", 1)[0].upper()
                if status != b"OK":
                    raise ImapError(text.decode("utf-8", "replace").strip())
                return out
            if text.startswith(b"* CAPABILITY ") or b"[CAPABILITY " in text:
                self._caps(text)
            if on_untagged is not None:
                on_untagged(text, lits)
            else:
                out.append((text, lits))

    def _caps(self, text):
        m = re.search(rb"CAPABILITY ([^\]\r\n]*)", text)
        if m:
            self.caps = set(c.upper() for c in m.group(1).split())

    def login(self, user, password):
        self.command(b"LOGIN", quote(user), quote(password))
        if not self.caps or "IMAP4REV1" not in {c.decode() for c in self.caps}:
            self.command(b"CAPABILITY")

    def has(self, cap):
        return cap.upper().encode() in self.caps

    def list_folders(self):
        """[(attributes, delimiter, wire name as bytes)] from LIST "" "*"."""
        out = []
        for text, lits in self.command(b'LIST "" "*"'):
            m = re.match(rb'\* LIST \(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") (.*)\r\n$', text)
            if not m:
                continue
            name = m.group(3)
            if name.startswith(b"\x00LIT"):
                name = lits[0]
            elif name.startswith(b'"'):
                name = re.sub(rb"\\(.)", rb"\1", name[1:-1])
            attrs = set(a.lower() for a in m.group(1).split())
            delim = None if m.group(2) == b"NIL" else m.group(2)[1:-1]
            out.append((attrs, delim, name))
        return out

    def logout(self):
        try:
            self.command(b"LOGOUT")
        except (ImapError, OSError):
            pass
        self.close()

    def close(self):
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass
