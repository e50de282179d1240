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
  append-drops-flagged  APPEND keeps every flag but \\Flagged, which only a later STORE sets.
                        imitates Microsoft Exchange, where \\Flagged given in APPEND is lost
                        outside IMAP (Outlook, OWA; here it is lost altogether, so a test can
                        see it). ref: Microsoft Exchange (FAQ.Exchange).
  drop-on-store[=N]     The N-th STORE (default the first) of the server's life is not carried
                        out: the connection drops without an answer. A fault, not a server's
                        habit: a connection lost right after APPENDs whose flags are set
                        next (append-drops-flagged). ref: Microsoft Exchange (FAQ.Exchange).
  create-overlap-crash[=MS]  CREATE takes MS ms (default 300); a CREATE that arrives in
                        another session meanwhile ends that session (the connection drops,
                        no answer). imitates Dovecot 2.3 (2.3.19: the imap process panics
                        on EDEADLK locking dovecot.list.index.log, seen here under parallel
                        CREATEs). ref: Dovecot 2.3.19 (this repository's tests).

PROFILES (--profile NAME): what the server announces (greeting, capabilities, ID response):
generic, exchange, zimbra, yahoo, icloud, courier. A quirk that belongs to one server selects its
profile unless --profile says otherwise (exchange-10-errors, auth-not-connected, max-size,
append-drops-flagged -> exchange; refuse-keywords -> zimbra; yahoo-crlf -> yahoo; phantom-uid -> icloud;
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

MODULES (tests/tools/; each imports only those below it, never one above, so there is no cycle):
  quirk_imap.py           this entry point: QUIRKS, PROFILES, QuirkServer (shared state, quirk
                          switches, names on the wire, dump) and main(); re-exports
                          sample_fixture and imap_date for the tests.
  quirk_imap_session.py   Session: one connection (read, dispatch under the lock, tagged answers).
  quirk_imap_commands.py  the handlers of all commands but the message ones, and COMMANDS.
  quirk_imap_messages.py  FETCH, SEARCH, STORE, EXPUNGE and their helpers.
  quirk_imap_store.py     Message, Mailbox, sample_fixture().
  quirk_imap_wire.py      stateless wire helpers: limits, errors, quoting builders, Tokenizer,
                          dates, sequence sets, header helpers, the modified UTF-7 codec.

Command line:
  quirk_imap.py --fixture F.json [--quirk NAME[=ARG]]... [--profile P] [--port 0] [--dump OUT.json]
  Prints "PORT <n>" once listening; serves until SIGTERM/SIGINT; then writes the dump.
"""

import argparse
import base64
import hashlib
import json
import signal
import socket
import socketserver
import sys
import threading

from quirk_imap_session import Session
from quirk_imap_store import Mailbox, sample_fixture
from quirk_imap_wire import (ImapError, header_value, imap_date, mutf7_decode, mutf7_encode,
                             nstring_literal, quoted)

# What the tests and scripts use from this module; sample_fixture and imap_date live in
# quirk_imap_store / quirk_imap_wire and are re-exported here.
__all__ = ["QUIRKS", "PROFILES", "QuirkServer", "sample_fixture", "imap_date", "main"]


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
    "create-overlap-crash": "Dovecot 2.3",
    "append-drops-flagged": "Microsoft Exchange",
    "drop-on-store": "a lost connection (fault)",
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
                    "max-size": "exchange", "append-drops-flagged": "exchange",
                    "refuse-keywords": "zimbra", "yahoo-crlf": "yahoo",
                    "phantom-uid": "icloud", "courier-examine": "courier"}


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
        self.creating = 0  # CREATEs under way (create-overlap-crash)
        self.stores_seen = 0  # STORE commands so far (drop-on-store)
        self.listing_unsolicited_done = False
        self.uidvalidity_counter = 5000
        self.load(sample_fixture() if fixture is None else fixture)
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
    try:
        srv = QuirkServer(fixture, a.quirk, a.profile, a.host, a.port).start()
    except ValueError as e:  # an unknown quirk, a host off loopback
        ap.error(str(e))
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
