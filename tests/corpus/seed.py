#!/usr/bin/env python3
"""Fills an IMAP mailbox on a loopback test server with a deterministic corpus, by APPEND only.

Usage:
  seed.py --port P --user U --password-env VAR --profile {full,simple,add}
          [--host 127.0.0.1] [--ssl | --starttls] [--cafile F] [--authzid USER]
          [--prefix INBOX. --sep .] [--count N] [--seed S] [--big-mb MB]
          [--sent-name NAME] [--summary] [-o FILE] [-v]

The same --seed always produces the same folders, messages (byte for byte), flags and internal
dates. The password is read from the environment variable named by --password-env, never argv.
Without --prefix/--sep, the personal namespace is read from NAMESPACE.

Profiles:
  full    the acceptance corpus: INBOX, Sent (--sent-name), Drafts, Trash, Work, Work/Projects,
          Work/Projects/2024 (not subscribed), Archive/2023 (with one --big-mb MB message; its
          parent "Archive" is NOT created), "Entwürfe alt", "日本語\u3000フォルダ", "Empty Folder";
          messages with/without Message-ID, a duplicated Message-ID, flags and keywords,
          internal dates years away from Date, an 8-bit Subject, and 3 \\Deleted messages in Work.
          --count ordinary messages (default 10) go to INBOX on top of the fixed ones.
  simple  --count (default 10) small messages spread over INBOX, Lists, Lists/Announcements.
  add     --count (default 10) new messages in INBOX with Message-IDs unique per --seed.

Writes a JSON manifest (see tests/servers/README.md) to stdout or -o FILE.
"""

import argparse
import base64
import datetime as dt
import email.utils
import hashlib
import json
import random
import re
import sys
import time

from imaputil import (add_connection_args, connect_from_args, parse_appenduid, parse_list,
                      parse_status, mutf7_encode, quote, wire_mailbox)

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
UTC = dt.timezone.utc
BASE = dt.datetime(2018, 3, 1, 9, 0, 0, tzinfo=UTC)
ZONES = [dt.timezone(dt.timedelta(hours=h, minutes=m)) for h, m in
         [(0, 0), (1, 0), (2, 0), (-5, 0), (9, 0), (5, 30), (-8, 0)]]

WORDS = ("mail ferry harbour message folder migrate server client quota draft invoice meeting "
         "report budget schedule project review deadline coffee archive summary travel ticket "
         "backup restore network update release notes minutes agenda proposal contract").split()

VERBOSE = False


def log(*a):
    if VERBOSE:
        print("seed:", *a, file=sys.stderr)


# ---- message building ------------------------------------------------------------------------

def imap_date(d):
    """An IMAP date-time (RFC 3501 date-time) in d's own zone, locale-independent."""
    off = d.utcoffset()
    mins = int(off.total_seconds() // 60)
    sign = "-" if mins < 0 else "+"
    mins = abs(mins)
    return '"%02d-%s-%04d %02d:%02d:%02d %s%02d%02d"' % (
        d.day, MONTHS[d.month - 1], d.year, d.hour, d.minute, d.second, sign, mins // 60, mins % 60)


def text_lines(rng, n_lines):
    lines = []
    for _ in range(n_lines):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 11))]
        lines.append(" ".join(words).capitalize() + ".")
    return lines


def crlf(lines):
    return b"".join(l.encode("utf-8") + b"\r\n" for l in lines)


class Msg:
    """One message of the corpus; `raw` is the exact byte string appended (CRLF line ends)."""

    def __init__(self, folder, seq, flags, internal, raw, message_id, date_header):
        self.folder = folder          # logical path: tuple of components, ("INBOX",) for INBOX
        self.seq = seq                # corpus-wide sequence number (X-Mailferry-Seq header)
        self.flags = flags            # list of flags and keywords given to APPEND
        self.internal = internal      # aware datetime for APPEND
        self.raw = raw
        self.message_id = message_id  # without angle brackets stripped, or None
        self.date_header = date_header


class Builder:
    def __init__(self, seed, profile):
        self.seed = seed
        self.profile = profile
        self.rng = random.Random("mailferry-corpus-%s-%d" % (profile, seed))
        self.seq = 0
        self.msgs = []

    def add(self, folder, *, subject, flags=(), message_id="auto", date=None, no_date=False,
            internal=None, body=None, subject_raw_8bit=False, extra_headers=(), cte="7bit",
            content_type="text/plain; charset=utf-8", raw_body=None):
        rng = self.rng
        self.seq += 1
        seq = self.seq
        if date is None:
            date = BASE + dt.timedelta(days=rng.randint(0, 6 * 365), seconds=rng.randint(0, 86399))
            date = date.astimezone(rng.choice(ZONES))
        if internal is None:
            # Delivered a little after it was written.
            internal = (date + dt.timedelta(minutes=rng.randint(1, 600))).astimezone(
                rng.choice(ZONES))
        if message_id == "auto":
            message_id = "%s-%d-%d.%08x@corpus.mailferry.test" % (
                self.profile, self.seed, seq, rng.getrandbits(32))
        date_header = None if no_date else email.utils.format_datetime(date)
        headers = [
            "From: Alice Example <alice@example.test>",
            "To: Bob Example <bob@example.test>",
        ]
        if rng.random() < 0.3:
            headers.append("Cc: Carol Example <carol@example.test>")
        headers.append("Subject: " + subject)  # 8-bit subjects go in raw UTF-8 on purpose
        if date_header:
            headers.append("Date: " + date_header)
        if message_id is not None:
            headers.append("Message-ID: <%s>" % message_id)
        headers.append("X-Mailferry-Seq: %d" % seq)
        headers.extend(extra_headers)
        headers.append("MIME-Version: 1.0")
        headers.append("Content-Type: " + content_type)
        if cte:
            headers.append("Content-Transfer-Encoding: " + cte)
        if raw_body is None:
            if body is None:
                body = text_lines(rng, rng.randint(3, 30))
            raw_body = crlf(body)
        raw = crlf(headers) + b"\r\n" + raw_body
        self.msgs.append(Msg(tuple(folder), seq, list(flags), internal, raw, message_id,
                             date_header))
        return self.msgs[-1]

    def big(self, folder, size_bytes, flags=()):
        """A multipart message of about size_bytes with a base64 attachment (76-char lines)."""
        rng = self.rng
        boundary = "=_mailferry_big_%d" % self.seed
        text = crlf(["This message carries a large attachment for streaming tests."])
        att_head = crlf([
            "--" + boundary,
            'Content-Type: application/octet-stream; name="big-%d.bin"' % self.seed,
            "Content-Transfer-Encoding: base64",
            'Content-Disposition: attachment; filename="big-%d.bin"' % self.seed,
            "",
        ])
        head = crlf(["--" + boundary, "Content-Type: text/plain; charset=utf-8", ""]) + text
        tail = crlf(["--" + boundary + "--"])
        overhead = 600 + len(head) + len(att_head) + len(tail)
        # 57 raw bytes -> one 76-character line + CRLF (78 bytes).
        n_lines = max(1, (size_bytes - overhead) // 78)
        payload = rng.randbytes(57 * n_lines)
        b64 = base64.encodebytes(payload).replace(b"\n", b"\r\n")
        body = head + att_head + b64 + tail
        return self.add(folder, subject="Large attachment (%d MB)" % (size_bytes // (1 << 20)),
                        flags=flags, content_type='multipart/mixed; boundary="%s"' % boundary,
                        cte=None, raw_body=body)


FLAG_COMBOS = [
    [], ["\\Seen"], ["\\Seen", "\\Answered"], ["\\Flagged"], ["\\Seen", "\\Flagged", "$Label1"],
    ["Work"], ["\\Seen", "$Forwarded"], ["\\Seen", "\\Answered", "\\Flagged", "$Label1", "Work"],
    ["$Label1", "$Forwarded"], ["\\Seen", "\\Draft"],
]


def years(n):
    return dt.timedelta(days=round(365.25 * n))


# ---- profiles --------------------------------------------------------------------------------

class Folder:
    def __init__(self, path, subscribed=True, special=None):
        self.path = tuple(path)
        self.subscribed = subscribed
        self.special = special  # role the folder plays by name: sent/drafts/trash/...


def profile_full(b, count, big_bytes, sent_name):
    inbox, sent, drafts, trash = ("INBOX",), (sent_name,), ("Drafts",), ("Trash",)
    work, proj, proj24 = ("Work",), ("Work", "Projects"), ("Work", "Projects", "2024")
    arch = ("Archive", "2023")
    de, ja, empty = ("Entwürfe alt",), ("日本語\u3000フォルダ",), ("Empty Folder",)
    folders = [
        Folder(inbox), Folder(sent, special="sent"), Folder(drafts, special="drafts"),
        Folder(trash, special="trash"), Folder(work), Folder(proj),
        Folder(proj24, subscribed=False), Folder(arch), Folder(de), Folder(ja), Folder(empty),
    ]
    r = b.rng
    # INBOX: ordinary messages with every flag/keyword combination.
    for i in range(count):
        b.add(inbox, subject="Ordinary message %d" % (i + 1), flags=FLAG_COMBOS[i % len(FLAG_COMBOS)])
    b.add(inbox, subject="No Message-ID here (1)", message_id=None, flags=["\\Seen"])
    b.add(inbox, subject="No Message-ID here (2)", message_id=None)
    dup = "duplicate-%d@corpus.mailferry.test" % b.seed
    b.add(inbox, subject="Same Message-ID, first body", message_id=dup, flags=["\\Seen"],
          body=["First of two messages sharing one Message-ID."] + text_lines(r, 4))
    b.add(inbox, subject="Same Message-ID, second body", message_id=dup, flags=["\\Flagged"],
          body=["Second of two messages sharing one Message-ID, different body."]
          + text_lines(r, 7))
    b.add(inbox, subject="Grüße aus Köln – 8-bit Betreff ünd 日本語", cte="8bit",
          flags=["\\Seen", "$Label1"],
          body=["Dieser Betreff steht als rohes UTF-8 im Header, nicht kodiert.", "Grüße!"])
    b.add(inbox, subject="=?UTF-8?B?%s?=" % base64.b64encode("Encoded-word: Café ☕".encode()).decode(),
          flags=["\\Answered"])
    d = dt.datetime(2016, 5, 17, 14, 30, 0, tzinfo=ZONES[1])
    b.add(inbox, subject="Internal date five years after Date", date=d,
          internal=(d + years(5)).astimezone(ZONES[4]), flags=["\\Seen"])

    # Sent
    b.add(sent, subject="Re: Budget 2019", flags=["\\Seen"])
    b.add(sent, subject="Fwd: Travel plans", flags=["\\Seen", "$Forwarded"])
    b.add(sent, subject="Sent without Message-ID", message_id=None, flags=["\\Seen"])
    d = dt.datetime(2022, 11, 2, 8, 15, 0, tzinfo=ZONES[3])
    b.add(sent, subject="Internal date three years before Date", date=d,
          internal=(d - years(3)).astimezone(UTC), flags=["\\Seen", "\\Answered"])

    # Drafts
    b.add(drafts, subject="Unfinished draft", flags=["\\Draft"], no_date=True)
    b.add(drafts, subject="Draft with keyword", flags=["\\Draft", "\\Seen", "Work"])

    # Trash
    b.add(trash, subject="Thrown away 1", flags=["\\Seen"])
    b.add(trash, subject="Thrown away 2", flags=["\\Seen", "$Label1"])

    # Work: keywords, plus the \Deleted messages (skipped by default by mailferry).
    for i, fl in enumerate([["Work"], ["Work", "$Label1"], ["\\Seen", "Work"],
                            ["\\Flagged", "Work", "$Forwarded"], []]):
        b.add(work, subject="Work item %d" % (i + 1), flags=fl)
    b.add(work, subject="Deleted, pending expunge (1)", flags=["\\Deleted"])
    b.add(work, subject="Deleted, pending expunge (2)", flags=["\\Seen", "\\Deleted"])
    b.add(work, subject="Deleted, pending expunge (3)", flags=["\\Deleted", "Work"])

    for i in range(3):
        b.add(proj, subject="Project update %d" % (i + 1),
              flags=[["\\Seen"], ["Work"], ["\\Seen", "\\Answered", "Work"]][i])
    for i in range(2):
        b.add(proj24, subject="2024 project note %d" % (i + 1), flags=[["\\Seen"], []][i])

    # Archive/2023: old mail whose internal dates lie years after the Date header.
    for i in range(3):
        d = dt.datetime(2023, 2 + 3 * i, 10 + i, 11, 0, 0, tzinfo=ZONES[2])
        b.add(arch, subject="Archived 2023 #%d" % (i + 1), date=d,
              internal=(d + years(1 + i)).astimezone(UTC), flags=["\\Seen"])
    if big_bytes > 0:
        b.big(arch, big_bytes, flags=["\\Seen", "$Label1"])

    b.add(de, subject="Entwurf: Angebot", flags=["\\Draft"], cte="8bit",
          body=["Sehr geehrte Damen und Herren,", "anbei der Entwurf für das Angebot.", "Grüße"])
    b.add(de, subject="Alter Entwurf", flags=["\\Seen"])

    b.add(ja, subject="=?UTF-8?B?%s?=" % base64.b64encode("日本語の件名".encode()).decode(),
          cte="8bit", flags=["\\Seen"],
          body=["こんにちは。これは日本語の本文です。", "メール移行のテストです。"])
    jp = "これはBase64でエンコードされた本文です。\r\n".encode("utf-8")
    b.add(ja, subject="Base64 body", cte="base64",
          raw_body=base64.encodebytes(jp).replace(b"\n", b"\r\n"), flags=["$Label1"])
    return folders


def profile_simple(b, count):
    folders = [Folder(("INBOX",)), Folder(("Lists",)), Folder(("Lists", "Announcements"))]
    for i in range(count):
        f = folders[i % 3].path
        b.add(f, subject="Simple message %d" % (i + 1), flags=FLAG_COMBOS[i % len(FLAG_COMBOS)],
              message_id="simple-%d-%d@corpus.mailferry.test" % (b.seed, i + 1),
              body=text_lines(b.rng, 3))
    return folders


def profile_add(b, count):
    base = BASE + dt.timedelta(days=b.seed % 1000)
    for i in range(count):
        d = (base + dt.timedelta(minutes=7 * i)).astimezone(ZONES[i % len(ZONES)])
        b.add(("INBOX",), subject="Added message %d (seed %d)" % (i + 1, b.seed), date=d,
              message_id="add-%d-%d@corpus.mailferry.test" % (b.seed, i + 1),
              body=text_lines(b.rng, 3))
    return [Folder(("INBOX",))]


# ---- talking to the server -------------------------------------------------------------------

def detect_namespace(conn):
    typ, data = conn._simple_command("NAMESPACE")
    if typ == "OK":
        _, ns = conn._untagged_response(typ, data, "NAMESPACE")
        if ns and ns[0]:
            m = re.match(rb'^\(\("((?:[^"\\]|\\.)*)" (NIL|"(?:[^"\\]|\\.)*")', ns[0])
            if m:
                sep = None if m.group(2) == b"NIL" else m.group(2)[1:-1].replace(b"\\\\", b"\\")
                return m.group(1).decode(), (sep.decode() if sep else "/")
    typ, data = conn.list('""', '""')
    entries = parse_list(data) if typ == "OK" else []
    return "", (entries[0][1] if entries and entries[0][1] else "/")


def server_name(path, prefix, sep):
    if path == ("INBOX",):
        return "INBOX"
    for comp in path:
        if sep in comp:
            raise SystemExit("folder component %r contains the separator %r" % (comp, sep))
    return prefix + sep.join(path)


def check_ok(what, typ, data):
    if typ != "OK":
        raise SystemExit("%s failed: %s %r" % (what, typ, data))


def run(args):
    global VERBOSE
    VERBOSE = args.verbose
    b = Builder(args.seed, args.profile)
    if args.profile == "full":
        folders = profile_full(b, 10 if args.count is None else args.count,
                               int(args.big_mb * (1 << 20)), args.sent_name)
    elif args.profile == "simple":
        folders = profile_simple(b, 10 if args.count is None else args.count)
    else:
        folders = profile_add(b, 10 if args.count is None else args.count)

    conn = connect_from_args(args)
    prefix, sep = args.prefix, args.sep
    if prefix is None or sep is None:
        ns_prefix, ns_sep = detect_namespace(conn)
        prefix = ns_prefix if prefix is None else prefix
        sep = ns_sep if sep is None else sep
    log("namespace prefix=%r separator=%r" % (prefix, sep))

    names = {f.path: server_name(f.path, prefix, sep) for f in folders}
    existed = {}
    for f in folders:
        name = names[f.path]
        if name == "INBOX":
            existed[f.path] = True
            continue
        typ, data = conn.create(wire_mailbox(name))
        if typ != "OK":
            if b"ALREADYEXISTS" in b" ".join(d for d in data if isinstance(d, bytes)):
                existed[f.path] = True
            else:
                raise SystemExit("CREATE %s failed: %r" % (name, data))
        else:
            existed[f.path] = False
        log("created" if not existed[f.path] else "exists", name)

    results = []
    selected = None
    t0 = time.time()
    for m in b.msgs:
        name = names[m.folder]
        if selected != name:
            # EXAMINE (read-only): Dovecot appends faster to the open folder, and a read-only
            # selection can never expunge the \Deleted messages we add.
            typ, data = conn.select(wire_mailbox(name), readonly=True)
            check_ok("EXAMINE " + name, typ, data)
            selected = name
        flags = "(%s)" % " ".join(m.flags) if m.flags else None
        typ, data = conn.append(wire_mailbox(name), flags, imap_date(m.internal), m.raw)
        check_ok("APPEND to " + name, typ, data)
        au = parse_appenduid(data)
        results.append((m, au))
        log("appended seq=%d to %s (%d bytes) uid=%s" % (m.seq, name, len(m.raw), au and au[1]))
    log("appended %d messages in %.2fs" % (len(results), time.time() - t0))
    if selected is not None:
        conn.unselect()

    for f in folders:
        if f.subscribed:
            typ, data = conn.subscribe(wire_mailbox(names[f.path]))
            check_ok("SUBSCRIBE " + names[f.path], typ, data)

    status_after = {}
    for f in folders:
        typ, data = conn.status(wire_mailbox(names[f.path]), "(MESSAGES UIDNEXT UIDVALIDITY)")
        check_ok("STATUS " + names[f.path], typ, data)
        status_after[f.path] = parse_status(data)
    conn.logout()

    msg_entries = []
    per_folder = {f.path: {"messages": 0, "deleted": 0, "bytes": 0, "deleted_bytes": 0}
                  for f in folders}
    for m, au in results:
        deleted = "\\Deleted" in m.flags
        pf = per_folder[m.folder]
        pf["deleted" if deleted else "messages"] += 1
        pf["deleted_bytes" if deleted else "bytes"] += len(m.raw)
        msg_entries.append({
            "folder": names[m.folder],
            "seq": m.seq,
            "uid": au[1] if au else None,
            "message_id": "<%s>" % m.message_id if m.message_id else None,
            "size": len(m.raw),
            "sha256": hashlib.sha256(m.raw).hexdigest(),
            "flags": m.flags,
            "deleted": deleted,
            "internaldate": imap_date(m.internal).strip('"'),
            "internaldate_epoch": int(m.internal.timestamp()),
            "date_header": m.date_header,
        })

    folder_entries = []
    for f in folders:
        pf = per_folder[f.path]
        folder_entries.append({
            "name": names[f.path],
            "wire_name": mutf7_encode(names[f.path]),
            "path": list(f.path),
            "special": f.special,
            "subscribed": f.subscribed,
            "existed": existed[f.path],
            "messages": pf["messages"],
            "deleted": pf["deleted"],
            "bytes": pf["bytes"],
            "deleted_bytes": pf["deleted_bytes"],
            "status_after": {k.lower(): v for k, v in status_after[f.path].items()},
        })
    deleted_folders = [names[f.path] for f in folders if per_folder[f.path]["deleted"]]
    manifest = {
        "format": "mailferry-corpus-manifest/1",
        "profile": args.profile,
        "seed": args.seed,
        "host": args.host,
        "port": args.port,
        "user": args.user,
        "prefix": prefix,
        "separator": sep,
        "folders": folder_entries,
        "unsubscribed": [names[f.path] for f in folders if not f.subscribed],
        "implied_parents": sorted({server_name(f.path[:i], prefix, sep)
                                   for f in folders for i in range(1, len(f.path))}
                                  - set(names.values())),
        "deleted_folder": deleted_folders[0] if deleted_folders else None,
        "totals": {
            "folders": len(folders),
            "messages": sum(p["messages"] for p in per_folder.values()),
            "deleted": sum(p["deleted"] for p in per_folder.values()),
            "bytes": sum(p["bytes"] for p in per_folder.values()),
            "deleted_bytes": sum(p["deleted_bytes"] for p in per_folder.values()),
        },
    }
    if not args.summary:
        manifest["messages"] = msg_entries
    out = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    if args.output:
        with open(args.output, "wb") as fh:
            fh.write(out)
    else:
        sys.stdout.buffer.write(out)
    t = manifest["totals"]
    print("seed: %s profile, %d folders, %d messages (%d bytes), %d \\Deleted%s" % (
        args.profile, t["folders"], t["messages"], t["bytes"], t["deleted"],
        " in " + manifest["deleted_folder"] if manifest["deleted_folder"] else ""),
        file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 1)[1])
    add_connection_args(ap)
    ap.add_argument("--profile", required=True, choices=["full", "simple", "add"])
    ap.add_argument("--prefix", help='personal namespace prefix, e.g. "INBOX." (default: NAMESPACE)')
    ap.add_argument("--sep", help='hierarchy separator, e.g. "." (default: NAMESPACE)')
    ap.add_argument("--count", type=int, help="number of messages (see profiles; default 10)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--big-mb", type=float, default=20.0,
                    help="size of the large message in the full profile in MiB (0: none)")
    ap.add_argument("--sent-name", default="Sent", help='name of the sent folder ("Sent Items")')
    ap.add_argument("--summary", action="store_true", help="omit the per-message list")
    ap.add_argument("-o", "--output", help="write the manifest here instead of stdout")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.ssl and args.starttls:
        ap.error("--ssl and --starttls are exclusive")
    if args.count is not None and args.count < 0:
        ap.error("--count must be >= 0")
    run(args)


if __name__ == "__main__":
    main()
