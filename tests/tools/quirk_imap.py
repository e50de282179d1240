#!/usr/bin/env python3
"""quirk_imap: a small but real in-memory IMAP4rev1 server whose deviations from the RFCs are
switches, each imitating a documented real server (Python 3 standard library only, loopback only,
no TLS: run mailferry against it with imap:// and --allow-plaintext).

WHY IT EXISTS. Integration tests use real Dovecot servers (tests/servers/). Dovecot keeps to the
RFCs, so the behaviour of the servers that do not (/work/shared/QUIRKS.md) needs an imitation.
This server holds its mailboxes in memory, loaded from a JSON fixture, and can dump them after
a run, so a test migrates between it and a real Dovecot in either direction and checks the result.

WHAT IT SPEAKS (RFC 3501 unless said): greeting (OK or PREAUTH), CAPABILITY, NOOP, LOGOUT, LOGIN,
AUTHENTICATE PLAIN (RFC 4616, with SASL-IR RFC 4959 or a continuation), ID (RFC 2971), ENABLE
(RFC 5161; enables nothing), NAMESPACE (RFC 2342), LIST / LSUB (with \\Noselect, \\HasChildren,
\\HasNoChildren and SPECIAL-USE attributes, RFC 6154), STATUS, SELECT / EXAMINE (FLAGS, EXISTS,
RECENT, UIDVALIDITY, UIDNEXT, PERMANENTFLAGS, READ-ONLY/READ-WRITE), CREATE (parents implied),
SUBSCRIBE / UNSUBSCRIBE, APPEND (flags, date, literals {n} and {n+} of RFC 7888, MULTIAPPEND of
RFC 3502, APPENDUID of RFC 4315), [UID] FETCH (UID FLAGS INTERNALDATE RFC822.SIZE RFC822
RFC822.HEADER BODY[...] / BODY.PEEK[...] with HEADER, TEXT, HEADER.FIELDS[.NOT] and <partial>;
BODY[] without PEEK sets \\Seen), [UID] SEARCH (ALL, sequence and UID sets, HEADER, flags,
KEYWORD, LARGER/SMALLER, NOT, OR), [UID] STORE, EXPUNGE, CHECK, CLOSE, UNSELECT.
Not: STARTTLS, IDLE, CONDSTORE, MOVE, COPY, RENAME, DELETE (BAD), ENVELOPE/BODYSTRUCTURE (BAD).

QUIRKS (--quirk NAME[=ARG], repeatable; Python: QuirkServer(fixture, quirks=["NAME=ARG", ...])).
"imitates" names the real server, "ref" the QUIRKS.md section (and its sources).
  no-uidplus            UIDPLUS not announced, APPEND answers without APPENDUID.
                        imitates Exchange <= 2010, FTGate. ref: Exchange ("lacks UIDPLUS"), Others.
  nil-delimiter         NIL hierarchy delimiter in LIST and NAMESPACE, names still hold "/".
                        imitates flat-namespace servers. ref: SPEC.md 4, Generic.
  list-unquoted         LIST/LSUB names sent as bare words even with spaces: `* LIST () "/" My Folder`.
                        imitates old Exchange / various. ref: Generic (folders with spaces).
  list-literal          LIST/LSUB names always sent as literals {n}.  ref: Generic.
  inbox-case[=Inbox]    INBOX listed in another case (default "Inbox"); all cases accepted.
                        imitates Exchange / GMX. ref: Exchange (case-insensitive names).
  fetch-order           FETCH answers put the body literal first, then the other attributes
                        shuffled, UID last. Legal (RFC 3501 7.4.2 fixes no order) but rare.
  unsolicited           In the middle of a UID FETCH of INBOX bodies (once per server): an unsolicited
                        FETCH (FLAGS) of another message, one new message delivered (EXISTS),
                        and the last requested message expunged (EXPUNGE, RFC 3501 7.4.1) and
                        not delivered; during a metadata listing a FETCH (FLAGS) without UID.
                        imitates busy shared mailboxes (any server). ref: Generic.
  wrong-rfc822-size[=D] RFC822.SIZE is the real size + D (default 100; may be negative).
                        imitates Exchange, Gmail. ref: Generic ("RFC822.SIZE differs").
  bare-lf               Bodies stored and returned with bare LF line ends (fixture and APPEND
                        converted). imitates mbox-backed servers. ref: Generic (bare LF).
  8bit-names            LIST names in raw UTF-8 instead of modified UTF-7; both accepted back.
                        imitates broken servers. ref: Generic, imap_account.h.
  bad-id, bad-enable, bad-namespace
                        ID / ENABLE / NAMESPACE announced, but answered BAD.
                        imitates hMailServer (NAMESPACE) and others. ref: Others.
  preauth               PREAUTH greeting: the session is logged in from the start.
                        imitates imapd behind rsh/ssh tunnels, some proxies. RFC 3501 7.1.4.
  long-lines[=N]        FLAGS and PERMANENTFLAGS lines of about N bytes (default 300000) full
                        of keywords. imitates servers that accumulate keywords. ref: Exchange
                        (long lines), Generic.
  noselect-parents      Parents of nested folders are implied, listed \\Noselect, and cannot be
                        selected. imitates Dovecot LAYOUT=fs, Gmail [Gmail]. ref: Generic.
  phantom-uid[=UID]     The INBOX message with this UID (default 2) is counted, searched and
                        listed with its metadata, but a FETCH of its body returns nothing.
                        imitates Apple iCloud. ref: Apple iCloud.
  exchange-10-errors[=N] After N (default 10) tagged NO/BAD in one session: "* BYE Connection
                        closed. 14" and the connection is closed. imitates Microsoft Exchange /
                        Office 365. ref: Microsoft Exchange, Office 365.
  auth-not-connected    A LOGIN/AUTHENTICATE with a wrong password is answered OK; every later
                        command but LOGOUT gets "NO User is authenticated but not connected."
                        imitates Microsoft Exchange. ref: Microsoft Exchange.
  refuse-keywords       APPEND with any non-system flag: "NO APPEND failed" (PERMANENTFLAGS
                        still says \\*). imitates Zimbra. ref: Zimbra.
  yahoo-crlf            APPEND of a literal that does not end in CRLF: "BAD [CLIENTBUG]
                        Additional arguments found after last expected argument".
                        imitates Yahoo. ref: Yahoo (imapsync#209, FAQ.Yahoo).
  max-size=N            APPEND of more than N bytes: "NO Maximum size of appendable message has
                        been exceeded." (no APPENDLIMIT announced). imitates Exchange. ref:
                        Microsoft Exchange (10 MB default).
  fold-case             Folder names are case-insensitive: "trash" finds "Trash", and CREATE of a
                        name that exists in another case says "NO Mailbox already exists".
                        imitates Microsoft Exchange. ref: Microsoft Exchange (case-insensitive).
  refuse-names[=CHARS]  CREATE refuses names with an ideographic space U+3000, leading, trailing
                        or repeated blanks, or any of CHARS (default "^"): "NO [CANNOT] Folder
                        name is not allowed". imitates Gmail ("excess whitespace", "^") and
                        servers without U+3000. ref: Gmail / Google Workspace, Generic.
  courier-examine       EXAMINE of a folder never SELECTed gives a new UIDVALIDITY each time.
                        imitates Courier-IMAP. ref: Courier (Dovecot imapc no-examine).

PROFILES (--profile NAME): what the server announces (greeting, capabilities, ID response):
generic, exchange, zimbra, yahoo, icloud, courier. A quirk that belongs to one server selects its
profile unless --profile says otherwise (exchange-10-errors, auth-not-connected, max-size ->
exchange; refuse-keywords -> zimbra; yahoo-crlf -> yahoo; phantom-uid -> icloud;
courier-examine -> courier).

FIXTURE (JSON, "format": "mailferry-quirk-fixture/1"):
  {"users": {"alice": "alice-pw"}, "separator": "/", "prefix": "",
   "folders": [{"name": "INBOX", "subscribed": true, "special": "\\\\Sent" | null,
                "uidvalidity": 1000, "messages": [{"uid": 1, "flags": ["\\\\Seen"],
                "internaldate": "17-Jul-1996 02:44:25 -0700", "body": "text" | "body_b64": "..."}]}]}
  Names are Unicode; uid/uidvalidity/internaldate are optional. sample_fixture() builds one.

DUMP ("format": "mailferry-quirk-dump/1"): folders with name, subscribed, special, noselect,
uidvalidity, uidnext and messages (uid, flags, internaldate, size, sha256, message_id and,
with bodies=True, body_b64); plus "events" (sessions, errors, BYEs, notable commands).

Command line:
  quirk_imap.py --fixture F.json [--quirk NAME[=ARG]]... [--profile P] [--port 0] [--dump OUT.json]
  Prints "PORT <n>" once listening; serves until SIGTERM/SIGINT; then writes the dump.
"""

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import random
import re
import signal
import socket
import socketserver
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus"))
from imaputil import mutf7_decode, mutf7_encode  # noqa: E402  (shared codec, tests/corpus)

MAX_LINE = 1 << 20        # bytes of one command line: a client sending more is broken
MAX_LITERAL = 256 << 20   # bytes of one literal
IO_TIMEOUT = 60.0         # a silent client is dropped after this many seconds
SYSTEM_FLAGS = ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

QUIRKS = {
    "no-uidplus": "Exchange <= 2010, FTGate",
    "nil-delimiter": "flat-namespace servers",
    "list-unquoted": "old Exchange and others",
    "list-literal": "various",
    "inbox-case": "Exchange, GMX",
    "fetch-order": "any (legal order)",
    "unsolicited": "busy shared mailboxes",
    "wrong-rfc822-size": "Exchange, Gmail",
    "bare-lf": "mbox-backed servers",
    "8bit-names": "broken servers",
    "bad-id": "various",
    "bad-enable": "various",
    "bad-namespace": "hMailServer",
    "preauth": "imapd behind ssh/rsh, proxies",
    "long-lines": "keyword-accumulating servers",
    "noselect-parents": "Dovecot LAYOUT=fs, Gmail",
    "phantom-uid": "Apple iCloud",
    "exchange-10-errors": "Microsoft Exchange / Office 365",
    "auth-not-connected": "Microsoft Exchange",
    "refuse-keywords": "Zimbra",
    "yahoo-crlf": "Yahoo",
    "fold-case": "Microsoft Exchange",
    "refuse-names": "Gmail and servers without U+3000",
    "max-size": "Microsoft Exchange",
    "courier-examine": "Courier-IMAP",
}

BASE_CAPS = ["IMAP4rev1", "LITERAL+", "UIDPLUS", "NAMESPACE", "ID", "ENABLE", "MULTIAPPEND",
             "SPECIAL-USE", "CHILDREN", "UNSELECT"]

PROFILES = {
    "generic": {"greeting": "quirk_imap ready (mailferry test server)", "greeting_caps": True,
                "extra_caps": [], "id": [("name", "quirk_imap"), ("vendor", "mailferry tests")]},
    # Exchange 2016 / Office 365: no capabilities in the greeting, no MULTIAPPEND, ENABLE or
    # SPECIAL-USE; ID names the product.
    "exchange": {"greeting": "The Microsoft Exchange IMAP4 service is ready.",
                 "greeting_caps": False, "extra_caps": ["IMAP4", "MOVE", "IDLE"],
                 "drop_caps": ["MULTIAPPEND", "ENABLE", "SPECIAL-USE"],
                 "id": [("name", "Microsoft.Exchange.Imap4.Imap4Server"), ("version", "15.1")]},
    "zimbra": {"greeting": "mail.example.test Zimbra IMAP4rev1 server ready", "greeting_caps": True,
               "extra_caps": [], "id": [("NAME", "Zimbra"), ("VERSION", "8.8.15_GA_4372")]},
    # Yahoo's own capability XYMHIGHESTMODSEQ (its CONDSTORE variant) marks it; greeting text is
    # just "IMAP4rev1 Hello".
    "yahoo": {"greeting": "IMAP4rev1 Hello", "greeting_caps": True,
              "extra_caps": ["XYMHIGHESTMODSEQ", "X-MSG-EXT", "OBJECTID"],
              "drop_caps": ["MULTIAPPEND", "ENABLE", "SPECIAL-USE"], "id": None},
    "icloud": {"greeting": "iSCREAM ready to rumble (1S:1000) p00-iscream000", "greeting_caps": True,
               "extra_caps": ["XAPPLEPUSHSERVICE"], "id": None},
    # Courier-IMAP: no LITERAL+ (synchronizing literals only), no ID, MULTIAPPEND, ENABLE,
    # SPECIAL-USE or UNSELECT.
    "courier": {"greeting": "Courier-IMAP ready. Copyright 1998-2011 Double Precision, Inc.  "
                            "See COPYING for distribution information.",
                "greeting_caps": True, "extra_caps": ["SORT", "QUOTA", "IDLE", "ACL"],
                "drop_caps": ["LITERAL+", "MULTIAPPEND", "ENABLE", "SPECIAL-USE", "UNSELECT"],
                "id": None, "no_id": True},
}

PROFILE_OF_QUIRK = {"exchange-10-errors": "exchange", "auth-not-connected": "exchange",
                    "max-size": "exchange", "refuse-keywords": "zimbra", "yahoo-crlf": "yahoo",
                    "phantom-uid": "icloud", "courier-examine": "courier"}


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


# ---- the mail store ---------------------------------------------------------------------------

class Message:
    def __init__(self, uid, flags, internaldate, body):
        self.uid = uid
        self.flags = list(flags)
        self.internaldate = internaldate
        self.body = body

    def has(self, flag):
        return any(f.lower() == flag.lower() for f in self.flags)


class Mailbox:
    def __init__(self, name, uidvalidity, special=None, noselect=False):
        self.name = name
        self.uidvalidity = uidvalidity
        self.uidnext = 1
        self.messages = []
        self.special = special
        self.noselect = noselect
        self.subscribed = False
        self.selected_once = False  # courier-examine

    def add(self, flags, internaldate, body, uid=None):
        uid = uid or self.uidnext
        msg = Message(uid, flags, internaldate, body)
        self.messages.append(msg)
        self.messages.sort(key=lambda m: m.uid)
        self.uidnext = max(self.uidnext, uid + 1)
        return msg


def sample_fixture(count=6, seed=1):
    """A small deterministic mailbox: flags, keywords, nesting, spaces, non-ASCII, Sent."""
    rng = random.Random("quirk-fixture-%d" % seed)
    combos = [[], ["\\Seen"], ["\\Seen", "\\Answered"], ["\\Flagged", "$Label1"], ["Work"],
              ["\\Seen", "\\Draft"], ["\\Seen", "$Forwarded", "Work"]]
    n = [0]

    def msg(folder, flags):
        n[0] += 1
        k = n[0]
        when = dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=rng.choice([-5, 0, 2]))))
        when += dt.timedelta(days=rng.randint(0, 900), seconds=rng.randint(0, 86399))
        lines = ["From: Quirk Sender <sender@example.test>", "To: Alice <alice@example.test>",
                 "Subject: quirk test %d in %s" % (k, folder),
                 "Date: " + when.strftime("%a, %d %b %Y %H:%M:%S %z"),
                 "Message-ID: <quirk-%d-%d@fixture.mailferry.test>" % (seed, k),
                 "X-Mailferry-Seq: %d" % k, "MIME-Version: 1.0",
                 "Content-Type: text/plain; charset=utf-8", ""]
        lines += ["Line %d of message %d: %s" % (i, k, "lorem ipsum " * rng.randint(1, 8))
                  for i in range(rng.randint(2, 12))]
        return {"flags": flags, "internaldate": imap_date(when),
                "body": "\r\n".join(lines) + "\r\n"}

    folders = [("INBOX", None), ("Sent", "\\Sent"), ("Work/Projects", None), ("My Folder", None),
               ("Entwürfe", None)]
    out = []
    for i, (name, special) in enumerate(folders):
        per = count if name == "INBOX" else max(1, count // 3)
        out.append({"name": name, "special": special, "subscribed": True,
                    "uidvalidity": 1000 + i,
                    "messages": [msg(name, combos[(i + j) % len(combos)]) for j in range(per)]})
    return {"format": "mailferry-quirk-fixture/1", "users": {"alice": "alice-pw"},
            "separator": "/", "prefix": "", "folders": out}


class QuirkServer:
    """The server: start() it, point a client at .port, stop() it, then dump()."""

    def __init__(self, fixture=None, quirks=(), profile=None, host="127.0.0.1", port=0):
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("quirk_imap listens on loopback only")
        self.quirks = {}
        for q in quirks:
            name, _, arg = q.partition("=")
            if name not in QUIRKS:
                raise ValueError("unknown quirk %r (known: %s)" % (name, ", ".join(sorted(QUIRKS))))
            self.quirks[name] = arg or None
        if profile is None:
            profile = next((PROFILE_OF_QUIRK[q] for q in self.quirks if q in PROFILE_OF_QUIRK),
                           "generic")
        if profile not in PROFILES:
            raise ValueError("unknown profile %r" % profile)
        self.profile_name = profile
        self.profile = PROFILES[profile]
        self.host, self.port_wanted = host, port
        self.lock = threading.RLock()
        self.events = []
        self.commands = []  # (session, COMMAND, status) in order
        self.session_count = 0
        self.unsolicited_done = False
        self.listing_unsolicited_done = False
        self.uidvalidity_counter = 5000
        self.load(fixture or sample_fixture())
        self._server = None
        self._thread = None
        self._sockets = set()

    # -- quirks ------------------------------------------------------------------------------

    def q(self, name):
        return name in self.quirks

    def qint(self, name, default):
        v = self.quirks.get(name)
        return int(v) if v not in (None, "") else default

    def event(self, session, kind, **detail):
        with self.lock:
            self.events.append(dict(session=session, event=kind, **detail))

    # -- store ------------------------------------------------------------------------------

    def store_body(self, body):
        if self.q("bare-lf"):
            body = body.replace(b"\r\n", b"\n")
        return body

    def load(self, fixture):
        self.users = dict(fixture.get("users") or {"alice": "alice-pw"})
        self.sep = fixture.get("separator", "/")
        self.prefix = fixture.get("prefix", "")
        self.mailboxes = {}
        for f in fixture.get("folders", []):
            box = self.create(f["name"], special=f.get("special"), uidvalidity=f.get("uidvalidity"))
            box.subscribed = f.get("subscribed", True)
            for m in f.get("messages", []):
                body = base64.b64decode(m["body_b64"]) if "body_b64" in m else \
                    m["body"].encode("utf-8")
                box.add(m.get("flags", []), m.get("internaldate") or imap_date(),
                        self.store_body(body), uid=m.get("uid"))
        if self.find("INBOX") is None:
            self.create("INBOX").subscribed = True

    def norm(self, name):
        """The store key: INBOX (and INBOX/...) in upper case, everything else as is."""
        if name.upper() == "INBOX":
            return "INBOX"
        if self.sep and name.upper().startswith("INBOX" + self.sep):
            return "INBOX" + name[5:]
        return name

    def find(self, name):
        box = self.mailboxes.get(self.norm(name))
        if box is None and self.q("fold-case"):
            folded = self.norm(name).casefold()
            box = next((b for n, b in self.mailboxes.items() if n.casefold() == folded), None)
        return box

    def create(self, name, special=None, uidvalidity=None):
        name = self.norm(name)
        if self.sep and not self.q("nil-delimiter"):
            parts = name.split(self.sep)
            for i in range(1, len(parts)):
                parent = self.sep.join(parts[:i])
                if parent and parent not in self.mailboxes:
                    self.uidvalidity_counter += 1
                    self.mailboxes[parent] = Mailbox(parent, self.uidvalidity_counter,
                                                     noselect=self.q("noselect-parents"))
        box = self.mailboxes.get(name)
        if box is None or box.noselect:
            if uidvalidity is None:
                self.uidvalidity_counter += 1
                uidvalidity = self.uidvalidity_counter
            box = Mailbox(name, uidvalidity, special)
            self.mailboxes[name] = box
        return box

    def has_children(self, name):
        return any(n.startswith(name + self.sep) for n in self.mailboxes) if self.sep else False

    # -- names on the wire ---------------------------------------------------------------------

    def wire_name(self, name):
        if name == "INBOX" and self.q("inbox-case"):
            name = self.quirks["inbox-case"] or "Inbox"
        if self.q("8bit-names"):
            return name.encode("utf-8")
        return mutf7_encode(name).encode("ascii")

    def list_name(self, name):
        raw = self.wire_name(name)
        if self.q("list-literal"):
            return nstring_literal(raw)
        if self.q("list-unquoted"):
            return raw
        if all(32 <= c < 127 for c in raw):
            return quoted(raw)
        return quoted(raw) if self.q("8bit-names") else nstring_literal(raw)

    def name_from_wire(self, raw):
        """Both raw UTF-8 (8bit-names clients echo it) and modified UTF-7 are accepted."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImapError("BAD", "mailbox name is not UTF-8 nor modified UTF-7")
        if any(ord(ch) > 127 for ch in text):
            return self.norm(text)
        try:
            return self.norm(mutf7_decode(text))
        except ValueError:
            return self.norm(text)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self):
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                with outer.lock:
                    outer.session_count += 1
                    sid = outer.session_count
                    outer._sockets.add(self.request)
                try:
                    Session(outer, self.request, sid).run()
                finally:
                    with outer.lock:
                        outer._sockets.discard(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            address_family = socket.AF_INET6 if ":" in self.host else socket.AF_INET

        self._server = Server((self.host, self.port_wanted), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            with self.lock:
                for s in list(self._sockets):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def dump(self, bodies=False):
        with self.lock:
            folders = []
            for name in sorted(self.mailboxes):
                box = self.mailboxes[name]
                msgs = []
                for m in box.messages:
                    mid = header_value(m.body, b"Message-ID")
                    entry = {"uid": m.uid, "flags": list(m.flags), "internaldate": m.internaldate,
                             "size": len(m.body), "sha256": hashlib.sha256(m.body).hexdigest(),
                             "message_id": mid.decode("utf-8", "replace") if mid else None}
                    if bodies:
                        entry["body_b64"] = base64.b64encode(m.body).decode("ascii")
                    msgs.append(entry)
                folders.append({"name": name, "subscribed": box.subscribed, "special": box.special,
                                "noselect": box.noselect, "uidvalidity": box.uidvalidity,
                                "uidnext": box.uidnext, "messages": msgs})
            return {"format": "mailferry-quirk-dump/1", "profile": self.profile_name,
                    "quirks": dict(self.quirks), "folders": folders, "events": list(self.events),
                    "commands": list(self.commands)}

    def capabilities(self, authenticated):
        caps = [c for c in BASE_CAPS if c not in self.profile.get("drop_caps", ())]
        caps += list(self.profile["extra_caps"])
        if self.profile.get("no_id"):
            caps.remove("ID")
        if self.q("no-uidplus"):
            caps.remove("UIDPLUS")
        for q, cap in (("bad-id", "ID"), ("bad-enable", "ENABLE"), ("bad-namespace", "NAMESPACE")):
            if self.q(q) and cap not in caps:
                caps.append(cap)
        if not authenticated:
            caps += ["AUTH=PLAIN", "SASL-IR"]
        return caps


# ---- one connection --------------------------------------------------------------------------

class Closed(Exception):
    pass


class Session:
    def __init__(self, server, sock, sid):
        self.srv = server
        self.sock = sock
        self.sid = sid
        self.rfile = sock.makefile("rb")
        self.state = "notauth"
        self.box = None
        self.readonly = True
        self.errors = 0
        self.not_connected = False
        self.literal_plus_violation = False
        sock.settimeout(IO_TIMEOUT)

    # -- I/O -----------------------------------------------------------------------------------

    def send(self, data):
        self.sock.sendall(data)

    def line(self, text):
        self.send((text.encode("utf-8") if isinstance(text, str) else text) + b"\r\n")

    def readline(self):
        line = self.rfile.readline(MAX_LINE + 2)
        if not line:
            raise Closed()
        if not line.endswith(b"\n"):
            raise ImapError("BAD", "line too long")
        return line.rstrip(b"\r\n")

    def read_command(self):
        tok = Tokenizer()
        while True:
            line = self.readline()
            m = LITERAL_AT_END.search(line)
            if not m:
                tok.feed_text(line)
                return tok.finish()
            tok.feed_text(line[:m.start()])
            size = int(m.group(1))
            if size > MAX_LITERAL:
                raise ImapError("BAD", "literal too large")
            if not m.group(2):
                self.line("+ Ready for literal data")
            elif "LITERAL+" not in self.srv.capabilities(True):
                self.literal_plus_violation = True  # answered BAD once the command is read
            data = self.rfile.read(size)
            if len(data) != size:
                raise Closed()
            tok.feed_literal(data)

    # -- the loop --------------------------------------------------------------------------------

    def run(self):
        srv = self.srv
        srv.event(self.sid, "connect")
        caps = " ".join(srv.capabilities(srv.q("preauth")))
        prof = srv.profile
        if srv.q("preauth"):
            self.state = "auth"
            self.line("* PREAUTH [CAPABILITY %s] Logged in as %s" % (caps, next(iter(srv.users))))
        elif prof["greeting_caps"]:
            self.line("* OK [CAPABILITY %s] %s" % (caps, prof["greeting"]))
        else:
            self.line("* OK " + prof["greeting"])
        try:
            while True:
                try:
                    tokens = self.read_command()
                except ImapError as e:
                    self.line("* BAD " + e.text)
                    continue
                if not tokens:
                    continue
                tag = tokens[0] if isinstance(tokens[0], bytes) else b"*"
                if len(tokens) < 2 or not isinstance(tokens[1], bytes):
                    self.tagged(tag, "BAD", "missing command")
                    continue
                if not self.dispatch(tag, tokens[1].upper().decode("ascii", "replace"), tokens[2:]):
                    break
        except (Closed, ConnectionError, socket.timeout, OSError):
            pass
        finally:
            srv.event(self.sid, "disconnect")
            try:
                self.sock.close()
            except OSError:
                pass

    def tagged(self, tag, status, text):
        self.line(tag + (" %s %s" % (status, text)).encode("utf-8"))
        if status in ("NO", "BAD"):
            self.errors += 1
            limit = self.srv.qint("exchange-10-errors", 10)
            if self.srv.q("exchange-10-errors") and self.errors >= limit:
                self.srv.event(self.sid, "bye-error-limit", errors=self.errors)
                self.line("* BYE Connection closed. 14")
                raise Closed()

    def dispatch(self, tag, cmd, args):
        srv = self.srv
        uid = False
        if cmd == "UID" and args and isinstance(args[0], bytes):
            uid, cmd, args = True, "UID " + args[0].upper().decode("ascii", "replace"), args[1:]
        status = "OK"
        try:
            if self.literal_plus_violation:
                self.literal_plus_violation = False
                raise ImapError("BAD", "Non-synchronizing literal {n+} without LITERAL+")
            if cmd == "AUTHENTICATE" and len(args) == 1 and self.state == "notauth":
                # No SASL-IR: ask for the response before taking the store lock.
                self.line("+ ")
                args = args + [self.readline()]
            with srv.lock:
                if self.not_connected and cmd not in ("LOGOUT",):
                    raise ImapError("NO", "User is authenticated but not connected.")
                handler = COMMANDS.get(cmd.replace("UID ", ""))
                if handler is None:
                    raise ImapError("BAD", "Command unknown or not supported: " + cmd)
                need = handler.state
                if need == "auth" and self.state == "notauth":
                    raise ImapError("BAD", "Command received in Invalid state.")
                if need == "selected" and self.state != "selected":
                    raise ImapError("BAD", "No mailbox selected")
                if need == "notauth" and self.state != "notauth":
                    raise ImapError("BAD", "Already authenticated")
                text = handler(self, tag, args, uid)
            if text is False:
                srv.commands.append((self.sid, cmd, "BYE"))
                return False
            self.tagged(tag, "OK", text or (cmd + " completed"))
        except ImapError as e:
            status = e.status
            with srv.lock:
                srv.commands.append((self.sid, cmd, status))
            self.tagged(tag, e.status, e.text)
            return True
        with srv.lock:
            srv.commands.append((self.sid, cmd, status))
        return True

    # -- helpers --------------------------------------------------------------------------------

    def mailbox_arg(self, tok):
        if isinstance(tok, list) or tok is None:
            raise ImapError("BAD", "missing mailbox name")
        return self.srv.name_from_wire(bytes(tok))

    def seq_of(self, msg):
        return self.box.messages.index(msg) + 1

    def flags_line(self):
        flags = list(SYSTEM_FLAGS)
        kws = sorted({f for m in self.box.messages for f in m.flags if not f.startswith("\\")})
        flags += kws
        if self.srv.q("long-lines"):
            want = self.srv.qint("long-lines", 300000)
            total, i = sum(len(f) + 1 for f in flags), 0
            while total < want:
                flags.append("$Accumulated%06d" % i)
                total += len(flags[-1]) + 1
                i += 1
        return flags


def command(state):
    def wrap(fn):
        fn.state = state
        return fn
    return wrap


@command("any")
def cmd_capability(s, tag, args, uid):
    s.line("* CAPABILITY " + " ".join(s.srv.capabilities(s.state != "notauth")))


@command("any")
def cmd_noop(s, tag, args, uid):
    return None


@command("any")
def cmd_logout(s, tag, args, uid):
    s.line("* BYE Logging out")
    s.tagged(tag, "OK", "LOGOUT completed")
    return False


@command("any")
def cmd_starttls(s, tag, args, uid):
    raise ImapError("BAD", "STARTTLS not supported (quirk_imap has no TLS)")


def login_ok(s, user, password):
    srv = s.srv
    if srv.users.get(user) == password:
        s.state = "auth"
        srv.event(s.sid, "login", user=user)
        return "[CAPABILITY %s] Logged in" % " ".join(srv.capabilities(True))
    if srv.q("auth-not-connected"):
        # Exchange: a wrong password "succeeds", then nothing works.
        s.state = "auth"
        s.not_connected = True
        srv.event(s.sid, "login-not-connected", user=user)
        return "LOGIN completed."
    raise ImapError("NO", "[AUTHENTICATIONFAILED] Authentication failed.")


@command("notauth")
def cmd_login(s, tag, args, uid):
    if len(args) != 2 or isinstance(args[0], list) or isinstance(args[1], list):
        raise ImapError("BAD", "LOGIN needs a user name and a password")
    return login_ok(s, bytes(args[0]).decode("utf-8", "replace"),
                    bytes(args[1]).decode("utf-8", "replace"))


@command("notauth")
def cmd_authenticate(s, tag, args, uid):
    if not args or bytes(args[0]).upper() != b"PLAIN":
        raise ImapError("NO", "Unsupported authentication mechanism")
    resp = bytes(args[1]) if len(args) > 1 else b"*"
    if resp == b"*":
        raise ImapError("BAD", "Authentication cancelled")
    try:
        parts = base64.b64decode(resp, validate=True).split(b"\0")
    except ValueError:
        raise ImapError("BAD", "Invalid base64")
    if len(parts) != 3:
        raise ImapError("NO", "[AUTHENTICATIONFAILED] Authentication failed.")
    return login_ok(s, parts[1].decode("utf-8", "replace"), parts[2].decode("utf-8", "replace"))


@command("any")
def cmd_id(s, tag, args, uid):
    if s.srv.q("bad-id") or s.srv.profile.get("no_id"):
        raise ImapError("BAD", "Unknown command ID")
    s.srv.event(s.sid, "id", client=repr(args))
    fields = s.srv.profile["id"]
    if not fields:
        s.line("* ID NIL")
    else:
        s.line(b"* ID (" + b" ".join(quoted(k.encode()) + b" " + quoted(v.encode())
                                     for k, v in fields) + b")")


@command("auth")
def cmd_enable(s, tag, args, uid):
    s.srv.event(s.sid, "enable", what=[bytes(a).decode() for a in args if isinstance(a, bytes)])
    if s.srv.q("bad-enable"):
        raise ImapError("BAD", "Unknown command ENABLE")
    s.line("* ENABLED")


@command("auth")
def cmd_namespace(s, tag, args, uid):
    if s.srv.q("bad-namespace"):
        raise ImapError("BAD", "Unknown command NAMESPACE")
    srv = s.srv
    sep = b"NIL" if srv.q("nil-delimiter") or not srv.sep else quoted(srv.sep.encode())
    s.line(b"* NAMESPACE ((" + quoted(srv.prefix.encode()) + b" " + sep + b")) NIL NIL")


def list_pattern(pattern, sep):
    out = ""
    for ch in pattern:
        if ch == "*":
            out += ".*"
        elif ch == "%":
            out += "[^%s]*" % re.escape(sep) if sep else ".*"
        else:
            out += re.escape(ch)
    return re.compile(out, re.S)


def do_list(s, args, lsub):
    srv = s.srv
    if len(args) < 2:
        raise ImapError("BAD", "LIST needs a reference and a pattern")
    ref = bytes(args[0]).decode("utf-8", "replace")
    pat = bytes(args[1]).decode("utf-8", "replace")
    sep = "" if srv.q("nil-delimiter") else srv.sep
    delim = b"NIL" if not sep else quoted(sep.encode())
    word = b"LSUB" if lsub else b"LIST"
    if pat == "":
        s.line(b"* " + word + b" (\\Noselect) " + delim + b' ""')
        return
    try:
        rx = list_pattern(mutf7_decode(ref + pat) if not srv.q("8bit-names") else ref + pat, sep)
    except ValueError:
        rx = list_pattern(ref + pat, sep)
    for name in sorted(srv.mailboxes, key=lambda n: (n != "INBOX", n)):
        box = srv.mailboxes[name]
        shown = srv.wire_name(name).decode("utf-8", "replace") if srv.q("8bit-names") else name
        if not (rx.fullmatch(name) or rx.fullmatch(shown)):
            continue
        if lsub and not box.subscribed:
            continue
        attrs = []
        if box.noselect:
            attrs.append("\\Noselect")
        attrs.append("\\HasChildren" if srv.has_children(name) else "\\HasNoChildren")
        if box.special and "SPECIAL-USE" in srv.capabilities(True):
            attrs.append(box.special)
        s.line(b"* " + word + b" (" + " ".join(attrs).encode() + b") " + delim + b" " +
               srv.list_name(name))


@command("auth")
def cmd_list(s, tag, args, uid):
    do_list(s, args, False)


@command("auth")
def cmd_lsub(s, tag, args, uid):
    do_list(s, args, True)


@command("auth")
def cmd_status(s, tag, args, uid):
    if len(args) < 2 or not isinstance(args[1], list):
        raise ImapError("BAD", "STATUS needs a mailbox and a list of items")
    box = s.srv.find(s.mailbox_arg(args[0]))
    if box is None or box.noselect:
        raise ImapError("NO", "[NONEXISTENT] Mailbox doesn't exist")
    out = []
    for item in args[1]:
        key = bytes(item).upper()
        if key == b"MESSAGES":
            out.append(b"MESSAGES %d" % len(box.messages))
        elif key == b"UIDNEXT":
            out.append(b"UIDNEXT %d" % box.uidnext)
        elif key == b"UIDVALIDITY":
            out.append(b"UIDVALIDITY %d" % box.uidvalidity)
        elif key == b"UNSEEN":
            out.append(b"UNSEEN %d" % sum(1 for m in box.messages if not m.has("\\Seen")))
        elif key == b"RECENT":
            out.append(b"RECENT 0")
        else:
            raise ImapError("BAD", "unknown STATUS item " + key.decode("ascii", "replace"))
    s.line(b"* STATUS " + astring(bytes(args[0])) + b" (" + b" ".join(out) + b")")


def do_select(s, args, readonly):
    srv = s.srv
    if not args:
        raise ImapError("BAD", "missing mailbox name")
    s.box, s.state = None, "auth"
    box = srv.find(s.mailbox_arg(args[0]))
    if box is None:
        raise ImapError("NO", "[NONEXISTENT] Mailbox doesn't exist")
    if box.noselect:
        raise ImapError("NO", "[CANNOT] Mailbox is not selectable (\\Noselect)")
    uidvalidity = box.uidvalidity
    if srv.q("courier-examine"):
        if readonly and not box.selected_once:
            srv.uidvalidity_counter += 1
            uidvalidity = srv.uidvalidity_counter  # never made permanent
        elif not readonly:
            box.selected_once = True
    s.box, s.readonly, s.state = box, readonly, "selected"
    s.line(b"* FLAGS (" + " ".join(s.flags_line()).encode() + b")")
    s.line(b"* OK [PERMANENTFLAGS (" + " ".join(s.flags_line() + ["\\*"]).encode() +
           b")] Flags permitted.")
    s.line("* %d EXISTS" % len(box.messages))
    s.line("* 0 RECENT")
    s.line("* OK [UIDVALIDITY %d] UIDs valid" % uidvalidity)
    s.line("* OK [UIDNEXT %d] Predicted next UID" % box.uidnext)
    srv.event(s.sid, "examine" if readonly else "select", mailbox=box.name)
    return "[READ-ONLY] EXAMINE completed" if readonly else "[READ-WRITE] SELECT completed"


@command("auth")
def cmd_select(s, tag, args, uid):
    return do_select(s, args, False)


@command("auth")
def cmd_examine(s, tag, args, uid):
    return do_select(s, args, True)


@command("selected")
def cmd_close(s, tag, args, uid):
    if not s.readonly:
        s.box.messages = [m for m in s.box.messages if not m.has("\\Deleted")]
    s.box, s.state = None, "auth"


@command("selected")
def cmd_unselect(s, tag, args, uid):
    s.box, s.state = None, "auth"


@command("selected")
def cmd_check(s, tag, args, uid):
    return None


@command("auth")
def cmd_create(s, tag, args, uid):
    name = s.mailbox_arg(args[0] if args else None)
    if name.endswith(s.srv.sep or "\0"):
        name = name[:-1]
    if s.srv.q("refuse-names"):
        refused = s.srv.quirks.get("refuse-names") or "^"
        leaf = name.split(s.srv.sep)[-1] if s.srv.sep else name
        if ("\u3000" in name or leaf != leaf.strip() or "  " in leaf
                or any(c in name for c in refused)):
            raise ImapError("NO", "[CANNOT] Folder name is not allowed")
    box = s.srv.find(name)
    if box is not None and not box.noselect:
        if s.srv.q("fold-case") and box.name != s.srv.norm(name):
            raise ImapError("NO", "Mailbox already exists")  # Exchange: no response code
        raise ImapError("NO", "[ALREADYEXISTS] Mailbox already exists")
    s.srv.create(name)
    s.srv.event(s.sid, "create", mailbox=name)


@command("auth")
def cmd_subscribe(s, tag, args, uid):
    box = s.srv.find(s.mailbox_arg(args[0] if args else None))
    if box is None:
        raise ImapError("NO", "[NONEXISTENT] Mailbox doesn't exist")
    box.subscribed = True


@command("auth")
def cmd_unsubscribe(s, tag, args, uid):
    box = s.srv.find(s.mailbox_arg(args[0] if args else None))
    if box is not None:
        box.subscribed = False


@command("auth")
def cmd_append(s, tag, args, uid):
    srv = s.srv
    name = s.mailbox_arg(args[0] if args else None)
    box = srv.find(name)
    if box is None:
        raise ImapError("NO", "[TRYCREATE] Mailbox doesn't exist")
    if box.noselect:
        raise ImapError("NO", "[CANNOT] Mailbox is not selectable")
    # MULTIAPPEND (RFC 3502): (flags)? date? literal, repeated; all or nothing.
    items, i, rest = [], 0, args[1:]
    while i < len(rest):
        flags, date = [], None
        if isinstance(rest[i], list):
            flags = [bytes(f).decode("utf-8", "replace") for f in rest[i]]
            i += 1
        if i < len(rest) and isinstance(rest[i], Str) and not isinstance(rest[i], Lit):
            date = rest[i].decode("ascii", "replace")
            if parse_imap_date(date) is None:
                raise ImapError("BAD", "Invalid date-time")
            i += 1
        if i >= len(rest) or not isinstance(rest[i], Lit):
            raise ImapError("BAD", "APPEND needs a message literal")
        items.append((flags, date, bytes(rest[i])))
        i += 1
    if not items:
        raise ImapError("BAD", "APPEND needs a message literal")
    for flags, date, body in items:
        if srv.q("yahoo-crlf") and not body.endswith(b"\r\n"):
            srv.event(s.sid, "refused-no-final-crlf", size=len(body))
            raise ImapError("BAD", "[CLIENTBUG] Additional arguments found after last expected "
                                   "argument")
        if srv.q("max-size") and len(body) > srv.qint("max-size", 10 << 20):
            srv.event(s.sid, "refused-too-big", size=len(body))
            raise ImapError("NO", "Maximum size of appendable message has been exceeded.")
        if srv.q("refuse-keywords") and any(not f.startswith("\\") for f in flags):
            srv.event(s.sid, "refused-keywords", flags=flags)
            raise ImapError("NO", "APPEND failed")
        bad = [f for f in flags if f.startswith("\\") and canon_flag(f) is None]
        if bad:
            raise ImapError("BAD", "Invalid system flag " + bad[0])
    uids = []
    for flags, date, body in items:
        msg = box.add([canon_flag(f) if f.startswith("\\") else f for f in flags],
                      date or imap_date(), srv.store_body(body))
        uids.append(msg.uid)
    srv.event(s.sid, "append", mailbox=box.name, count=len(uids))
    if s.box is box:
        s.line("* %d EXISTS" % len(box.messages))
    if srv.q("no-uidplus"):
        return "APPEND completed"
    uidset = str(uids[0]) if len(uids) == 1 else "%d:%d" % (uids[0], uids[-1])
    return "[APPENDUID %d %s] APPEND completed" % (box.uidvalidity, uidset)


SECTION = re.compile(rb"^(BODY(?:\.PEEK)?|BINARY(?:\.PEEK)?)\[([^\]]*)\](?:<(\d+)(?:\.(\d+))?>)?$",
                     re.I)


def canon_flag(flag):
    """The system flag in its usual spelling, or None if `flag` is no system flag."""
    for f in SYSTEM_FLAGS:
        if f.lower() == flag.lower():
            return f
    return None


def fetch_items(args):
    if not args:
        raise ImapError("BAD", "FETCH needs items")
    spec = args[0]
    items = spec if isinstance(spec, list) else [spec]
    out = []
    for it in items:
        word = bytes(it).upper()
        if word == b"FAST":
            out += [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE"]
        elif word in (b"ALL", b"FULL", b"ENVELOPE", b"BODYSTRUCTURE", b"BODY") or \
                word.startswith(b"BINARY"):
            raise ImapError("BAD", "quirk_imap does not serve " + word.decode())
        elif word in (b"UID", b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"RFC822",
                      b"RFC822.HEADER", b"RFC822.TEXT") or SECTION.match(bytes(it)):
            out.append(bytes(it))
        else:
            raise ImapError("BAD", "unknown FETCH item " + word.decode("ascii", "replace"))
    return out


def section_data(msg, spec):
    m = SECTION.match(spec)
    section = m.group(2).upper()
    body = msg.body
    head, text = header_block(body)
    if section == b"":
        data = body
    elif section == b"HEADER":
        data = head
    elif section in (b"TEXT", b"1"):
        data = text
    elif section.startswith(b"HEADER.FIELDS"):
        names = re.findall(rb"[^\s()\"]+", section.split(b"(", 1)[1]) if b"(" in section else []
        data = header_fields(body, names, section.startswith(b"HEADER.FIELDS.NOT"))
    else:
        data = b""
    name = b"BODY[" + m.group(2) + b"]"
    if m.group(3) is not None:
        start = int(m.group(3))
        length = int(m.group(4)) if m.group(4) is not None else len(data)
        data = data[start:start + length]
        name += b"<%d>" % start
    return name, data, not m.group(1).upper().endswith(b".PEEK")


def fetch_response(s, msg, items, uid_cmd, rng):
    srv = s.srv
    attrs, bodies = [], []
    want = list(items)
    if uid_cmd and not any(bytes(w).upper() == b"UID" for w in want):
        want.insert(0, b"UID")
    seen_set = False
    for it in want:
        word = it.upper()
        if word == b"UID":
            attrs.append(b"UID %d" % msg.uid)
        elif word == b"FLAGS":
            attrs.append(("FLAGS (%s)" % " ".join(msg.flags)).encode())
        elif word == b"INTERNALDATE":
            attrs.append(b"INTERNALDATE " + quoted(msg.internaldate.encode()))
        elif word == b"RFC822.SIZE":
            size = len(msg.body)
            if srv.q("wrong-rfc822-size"):
                size = max(0, size + srv.qint("wrong-rfc822-size", 100))
            attrs.append(b"RFC822.SIZE %d" % size)
        elif word == b"RFC822":
            bodies.append(b"RFC822 " + nstring_literal(msg.body))
            seen_set = True
        elif word == b"RFC822.HEADER":
            bodies.append(b"RFC822.HEADER " + nstring_literal(header_block(msg.body)[0]))
        elif word == b"RFC822.TEXT":
            bodies.append(b"RFC822.TEXT " + nstring_literal(header_block(msg.body)[1]))
            seen_set = True
        else:
            name, data, sets_seen = section_data(msg, it)
            bodies.append(name + b" " + nstring_literal(data))
            seen_set = seen_set or sets_seen
    if seen_set and not s.readonly and not msg.has("\\Seen"):
        msg.flags.append("\\Seen")
        if not any(a.startswith(b"FLAGS") for a in attrs):
            attrs.append(("FLAGS (%s)" % " ".join(msg.flags)).encode())
    if srv.q("fetch-order"):
        # Bodies first, the rest shuffled, the UID last.
        uid_part = [a for a in attrs if a.startswith(b"UID ")]
        others = [a for a in attrs if not a.startswith(b"UID ")]
        rng.shuffle(others)
        parts = bodies + others + uid_part
    else:
        uid_part = [a for a in attrs if a.startswith(b"UID ")]
        parts = uid_part + [a for a in attrs if not a.startswith(b"UID ")] + bodies
    return b"* %d FETCH (" % s.seq_of(msg) + b" ".join(parts) + b")"


@command("selected")
def cmd_fetch(s, tag, args, uid):
    srv, box = s.srv, s.box
    if len(args) < 2:
        raise ImapError("BAD", "FETCH needs a set and items")
    items = fetch_items(args[1:])
    maxval = (box.messages[-1].uid if uid else len(box.messages)) if box.messages else 0
    ranges = parse_set(bytes(args[0]), maxval)
    wants_body = any(not bytes(i).upper().startswith((b"UID", b"FLAGS", b"INTERNALDATE",
                                                        b"RFC822.SIZE")) and
                     b"HEADER" not in bytes(i).upper() for i in items)
    targets = [m for n, m in enumerate(box.messages, 1) if in_ranges(m.uid if uid else n, ranges)]
    phantom = srv.qint("phantom-uid", 2) if srv.q("phantom-uid") and box.name == "INBOX" else None
    rng = random.Random("fetch-order-%d" % len(targets))
    busy = srv.q("unsolicited") and uid and box.name == "INBOX" and len(targets) >= 2
    unsolicited = busy and wants_body and not srv.unsolicited_done
    listing_unsolicited = busy and not wants_body and not srv.listing_unsolicited_done
    expunged = None
    if unsolicited:
        srv.unsolicited_done = True
        # Expunge a message that comes after the first but before others: the sequence numbers
        # of everything after it shift down by one while the FETCH goes on.
        expunged = targets[1] if len(targets) >= 3 else targets[-1]
    for k, msg in enumerate(targets):
        if msg not in box.messages:
            continue
        if phantom is not None and msg.uid == phantom and wants_body:
            srv.event(s.sid, "phantom-not-delivered", uid=msg.uid)
            continue
        if msg is expunged:
            continue
        s.line(fetch_response(s, msg, items, uid, rng))
        if k == 0 and listing_unsolicited:
            srv.listing_unsolicited_done = True
            other = targets[1]
            # A flag update from another session: sequence number only, no UID (legal).
            s.line("* %d FETCH (FLAGS (%s))" % (s.seq_of(other), " ".join(other.flags)))
            srv.event(s.sid, "unsolicited-listing", seq=s.seq_of(other))
        if k == 0 and unsolicited:
            other = targets[-1]
            s.line("* %d FETCH (FLAGS (%s))" % (s.seq_of(other), " ".join(other.flags)))
            body = (b"From: late@example.test\r\nSubject: arrived during the fetch\r\n"
                    b"Message-ID: <late-arrival@fixture.mailferry.test>\r\n\r\nlate\r\n")
            box.add([], imap_date(), srv.store_body(body))
            s.line("* %d EXISTS" % len(box.messages))
            seq = s.seq_of(expunged)
            box.messages.remove(expunged)
            s.line("* %d EXPUNGE" % seq)
            srv.event(s.sid, "unsolicited", expunged_uid=expunged.uid, expunged_seq=seq,
                      arrived_uid=box.messages[-1].uid)


def search_match(s, msg, seq, crit, uid_max):
    """Consumes one search key from the list `crit` (destructively) and evaluates it."""
    if not crit:
        raise ImapError("BAD", "missing search key")
    key = crit.pop(0)
    if isinstance(key, list):
        sub = list(key)
        ok = True
        while sub:
            ok = search_match(s, msg, seq, sub, uid_max) and ok
        return ok
    word = bytes(key).upper()
    flagkeys = {b"SEEN": "\\Seen", b"ANSWERED": "\\Answered", b"FLAGGED": "\\Flagged",
                b"DELETED": "\\Deleted", b"DRAFT": "\\Draft"}
    if word == b"ALL":
        return True
    if word in flagkeys:
        return msg.has(flagkeys[word])
    if word.startswith(b"UN") and word[2:] in flagkeys:
        return not msg.has(flagkeys[word[2:]])
    if word == b"KEYWORD":
        return msg.has(bytes(crit.pop(0)).decode())
    if word == b"UNKEYWORD":
        return not msg.has(bytes(crit.pop(0)).decode())
    if word == b"UID":
        return in_ranges(msg.uid, parse_set(bytes(crit.pop(0)), uid_max))
    if word == b"HEADER":
        name, value = bytes(crit.pop(0)), bytes(crit.pop(0))
        got = header_value(msg.body, name)
        return got is not None and value.lower() in got.lower()
    if word == b"LARGER":
        return len(msg.body) > int(crit.pop(0))
    if word == b"SMALLER":
        return len(msg.body) < int(crit.pop(0))
    if word == b"NOT":
        return not search_match(s, msg, seq, crit, uid_max)
    if word == b"OR":
        a = search_match(s, msg, seq, crit, uid_max)
        b = search_match(s, msg, seq, crit, uid_max)
        return a or b
    if re.fullmatch(rb"[0-9:*,]+", word):
        return in_ranges(seq, parse_set(word, len(s.box.messages)))
    raise ImapError("BAD", "unsupported search key " + word.decode("ascii", "replace"))


@command("selected")
def cmd_search(s, tag, args, uid):
    args = list(args)
    if len(args) >= 2 and isinstance(args[0], bytes) and args[0].upper() == b"CHARSET":
        args = args[2:]
    box = s.box
    uid_max = box.messages[-1].uid if box.messages else 0
    hits = []
    for seq, msg in enumerate(box.messages, 1):
        crit = list(args)
        ok = True
        while crit:
            ok = search_match(s, msg, seq, crit, uid_max) and ok
        if ok:
            hits.append(msg.uid if uid else seq)
    s.line("* SEARCH" + "".join(" %d" % h for h in hits))


@command("selected")
def cmd_store(s, tag, args, uid):
    if s.readonly:
        raise ImapError("NO", "[READ-ONLY] Mailbox is read-only")
    if len(args) < 3:
        raise ImapError("BAD", "STORE needs a set, an action and flags")
    box = s.box
    maxval = (box.messages[-1].uid if uid else len(box.messages)) if box.messages else 0
    ranges = parse_set(bytes(args[0]), maxval)
    action = bytes(args[1]).upper()
    flags = [bytes(f).decode() for f in (args[2] if isinstance(args[2], list) else args[2:])]
    s.srv.event(s.sid, "store", action=action.decode(), flags=flags)
    for seq, msg in enumerate(box.messages, 1):
        if not in_ranges(msg.uid if uid else seq, ranges):
            continue
        if action.startswith(b"+"):
            msg.flags += [f for f in flags if not msg.has(f)]
        elif action.startswith(b"-"):
            msg.flags = [f for f in msg.flags if f.lower() not in {x.lower() for x in flags}]
        else:
            msg.flags = list(flags)
        if b".SILENT" not in action:
            s.line("* %d FETCH (UID %d FLAGS (%s))" % (seq, msg.uid, " ".join(msg.flags)))


@command("selected")
def cmd_expunge(s, tag, args, uid):
    if s.readonly:
        raise ImapError("NO", "[READ-ONLY] Mailbox is read-only")
    s.srv.event(s.sid, "expunge", mailbox=s.box.name)
    seq = 1
    for msg in list(s.box.messages):
        if msg.has("\\Deleted"):
            s.box.messages.remove(msg)
            s.line("* %d EXPUNGE" % seq)
        else:
            seq += 1


COMMANDS = {
    "CAPABILITY": cmd_capability, "NOOP": cmd_noop, "LOGOUT": cmd_logout, "STARTTLS": cmd_starttls,
    "LOGIN": cmd_login, "AUTHENTICATE": cmd_authenticate, "ID": cmd_id, "ENABLE": cmd_enable,
    "NAMESPACE": cmd_namespace, "LIST": cmd_list, "LSUB": cmd_lsub, "STATUS": cmd_status,
    "SELECT": cmd_select, "EXAMINE": cmd_examine, "CLOSE": cmd_close, "UNSELECT": cmd_unselect,
    "CHECK": cmd_check, "CREATE": cmd_create, "SUBSCRIBE": cmd_subscribe,
    "UNSUBSCRIBE": cmd_unsubscribe, "APPEND": cmd_append, "FETCH": cmd_fetch,
    "SEARCH": cmd_search, "STORE": cmd_store, "EXPUNGE": cmd_expunge,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixture", help="JSON fixture (default: sample_fixture())")
    ap.add_argument("--empty", action="store_true", help="start with an empty INBOX only")
    ap.add_argument("--quirk", action="append", default=[], help="NAME[=ARG], repeatable")
    ap.add_argument("--profile", choices=sorted(PROFILES))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dump", help="write the dump (JSON) here at exit")
    ap.add_argument("--dump-bodies", action="store_true")
    ap.add_argument("--write-sample-fixture", metavar="FILE", help="write sample_fixture() and exit")
    a = ap.parse_args()
    if a.write_sample_fixture:
        with open(a.write_sample_fixture, "w", encoding="utf-8") as f:
            json.dump(sample_fixture(), f, indent=1, ensure_ascii=False)
        return 0
    fixture = None
    if a.empty:
        fixture = {"folders": []}
    if a.fixture:
        with open(a.fixture, encoding="utf-8") as f:
            fixture = json.load(f)
    srv = QuirkServer(fixture, a.quirk, a.profile, a.host, a.port).start()
    print("PORT %d" % srv.port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    srv.stop()
    if a.dump:
        with open(a.dump, "w", encoding="utf-8") as f:
            json.dump(srv.dump(a.dump_bodies), f, indent=1, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
