"""quirk_imap_wire: the stateless wire layer of tests/tools/quirk_imap.py.

Holds: the limits (MAX_LINE, MAX_LITERAL, IO_TIMEOUT); SYSTEM_FLAGS and canon_flag(); ImapError
(a command answered BAD or NO); the token types Str (quoted or literal) and Lit (literal); IMAP
date-time formatting and parsing (RFC 3501 date-time); the quoting builders quoted(), astring()
and nstring_literal(), which responses use for names and strings instead of pasting them in;
the Tokenizer of a command's line segments and literals (LITERAL_AT_END finds {n} / {n+} of
RFC 7888); sequence sets (parse_set, in_ranges); header helpers over a message body
(header_block, header_fields, header_value); the command(state) marker that tells Session which
RFC 3501 state a handler needs; and the modified UTF-7 codec (RFC 3501 5.1.3) re-exported from
tests/corpus/imaputil.py, which importing this module puts on sys.path.

Contract: no sockets, no server, session or mailbox state, no quirks. Everything here is a pure
function except imap_date() without an argument (it reads the clock) and Tokenizer, which holds
only the command being read. Bad client input raises ImapError("BAD", ...). This module imports
no other quirk_imap* module, so all of them may import it. Python 3 standard library only (plus
imaputil).
"""

import datetime as dt
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus"))
from imaputil import mutf7_decode, mutf7_encode  # noqa: E402  (shared codec, tests/corpus)

__all__ = [
    "MAX_LINE", "MAX_LITERAL", "IO_TIMEOUT", "SYSTEM_FLAGS", "MONTHS", "ImapError", "Str", "Lit",
    "imap_date", "parse_imap_date", "ATOM_SPECIALS", "is_atom", "quoted", "astring",
    "nstring_literal", "Tokenizer", "LITERAL_AT_END", "parse_set", "in_ranges", "header_block",
    "header_fields", "header_value", "canon_flag", "command", "mutf7_decode", "mutf7_encode",
]

MAX_LINE = 1 << 20        # bytes of one command line: a client sending more is broken
MAX_LITERAL = 256 << 20   # bytes of one literal
IO_TIMEOUT = 60.0         # a silent client is dropped after this many seconds
SYSTEM_FLAGS = ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


class ImapError(Exception):
    """A command the server answers with BAD (syntax) or NO (refused)."""

    def __init__(self, status, text):
        super().__init__(text)
        self.status = status
        self.text = text


class Str(bytes):
    """A quoted string or a literal, as opposed to an atom (bytes)."""


class Lit(Str):
    """A literal {n} / {n+} (an APPEND message must be one)."""


# ---- wire helpers -----------------------------------------------------------------------------

def imap_date(when=None):
    when = when or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    off = int(when.utcoffset().total_seconds() // 60)
    sign = "-" if off < 0 else "+"
    off = abs(off)
    return "%02d-%s-%04d %02d:%02d:%02d %s%02d%02d" % (
        when.day, MONTHS[when.month - 1], when.year, when.hour, when.minute, when.second, sign,
        off // 60, off % 60)


def parse_imap_date(text):
    m = re.fullmatch(r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)",
                     text)
    if not m:
        return None
    mon = [x.lower() for x in MONTHS].index(m.group(2).lower()) + 1
    tz = dt.timezone((1 if m.group(7) == "+" else -1) *
                     dt.timedelta(hours=int(m.group(8)), minutes=int(m.group(9))))
    return dt.datetime(int(m.group(3)), mon, int(m.group(1)), int(m.group(4)), int(m.group(5)),
                       int(m.group(6)), tzinfo=tz)


ATOM_SPECIALS = set(b'(){ %*"\\]') | set(range(0, 32)) | {127}


def is_atom(b):
    return bool(b) and all(c not in ATOM_SPECIALS and c < 128 for c in b) and b.upper() != b"NIL"


def quoted(b):
    return b'"' + b.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def astring(b):
    """Atom if possible, quoted if 7-bit without CR/LF, else a literal."""
    if is_atom(b):
        return b
    if all(32 <= c < 127 for c in b):
        return quoted(b)
    return b"{%d}\r\n" % len(b) + b


def nstring_literal(b):
    return b"{%d}\r\n" % len(b) + b


class Tokenizer:
    """Turns a command (line segments and literals) into atoms (bytes), Str and lists."""

    def __init__(self):
        self.root = []
        self.stack = [self.root]

    def feed_text(self, text):
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c == 0x20:
                i += 1
            elif c == 0x28:  # (
                lst = []
                self.stack[-1].append(lst)
                self.stack.append(lst)
                i += 1
            elif c == 0x29:  # )
                if len(self.stack) == 1:
                    raise ImapError("BAD", "unbalanced ')'")
                self.stack.pop()
                i += 1
            elif c == 0x22:  # "
                j, out = i + 1, bytearray()
                while True:
                    if j >= n:
                        raise ImapError("BAD", "unterminated quoted string")
                    if text[j] == 0x5C and j + 1 < n:
                        out.append(text[j + 1])
                        j += 2
                    elif text[j] == 0x22:
                        j += 1
                        break
                    else:
                        out.append(text[j])
                        j += 1
                self.stack[-1].append(Str(bytes(out)))
                i = j
            else:
                # An atom; a section spec BODY[HEADER.FIELDS (A B)] is one atom.
                j, depth = i, 0
                while j < n:
                    ch = text[j]
                    if ch == 0x5B:
                        depth += 1
                    elif ch == 0x5D:
                        depth = max(0, depth - 1)
                    elif depth == 0 and ch in (0x20, 0x28, 0x29):
                        break
                    j += 1
                self.stack[-1].append(bytes(text[i:j]))
                i = j

    def feed_literal(self, data):
        self.stack[-1].append(Lit(data))

    def finish(self):
        if len(self.stack) != 1:
            raise ImapError("BAD", "unterminated list")
        return self.root


LITERAL_AT_END = re.compile(rb"~?\{(\d+)(\+?)\}$")


def parse_set(text, maxval):
    """'1:3,7,9:*' -> list of (lo, hi); '*' is maxval."""
    ranges = []
    try:
        for part in text.split(b","):
            ends = part.split(b":")
            if len(ends) > 2:
                raise ValueError
            vals = [maxval if e == b"*" else int(e) for e in ends]
            ranges.append((min(vals), max(vals)))
    except ValueError:
        raise ImapError("BAD", "invalid sequence set")
    return ranges


def in_ranges(v, ranges):
    return any(lo <= v <= hi for lo, hi in ranges)


def header_block(body):
    for sep in (b"\r\n\r\n", b"\n\n"):
        k = body.find(sep)
        if k >= 0:
            return body[:k + len(sep)], body[k + len(sep):]
    return body, b""


def header_fields(body, names, negate):
    head, _ = header_block(body)
    lines = re.split(rb"(?<=\n)", head)
    wanted = {n.lower() for n in names}
    out, keep = [], False
    for line in lines:
        if line in (b"\r\n", b"\n", b""):
            continue
        if line[:1] in (b" ", b"\t"):
            if keep:
                out.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        keep = (name in wanted) != negate
        if keep:
            out.append(line)
    return b"".join(out) + b"\r\n"


def header_value(body, name):
    head, _ = header_block(body)
    m = re.search(rb"(?im)^" + re.escape(name) + rb":[ \t]*(.*(?:\r?\n[ \t].*)*)", head)
    return m.group(1).strip() if m else None


def canon_flag(flag):
    """The system flag in its usual spelling, or None if `flag` is no system flag."""
    for f in SYSTEM_FLAGS:
        if f.lower() == flag.lower():
            return f
    return None


def command(state):
    """Marks a handler with the state it needs ("any", "notauth", "auth", "selected");
    Session.dispatch checks it before the call."""
    def wrap(fn):
        fn.state = state
        return fn
    return wrap
