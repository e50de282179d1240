#!/usr/bin/env python3
"""Dumps a loopback IMAP mailbox as JSON, or checks it against a seed.py manifest.

An oracle for tests that does not share code with mailferry: it reads every folder read-only
(EXAMINE, BODY.PEEK[]) and reports, per message, size, SHA-256 of the exact bytes, flags,
internal date and Message-ID.

Usage:
  dump.py --port P --user U --password-env VAR [--ssl | --starttls] [--cafile F] [--no-bodies]
          [-o FILE]
  dump.py ... --verify MANIFEST [--prefix P --sep S] [--map "OLD=NEW" ...] [--include-deleted]
          [--no-subscriptions]

--verify: the mailbox must hold, per manifest folder (translated to this server's namespace
from the manifest's "path" components, then renamed by --map where given), exactly the
manifest's messages that are not \\Deleted (or all with --include-deleted): same bytes (SHA-256),
same flags and keywords (\\Recent ignored), same internal date (as an instant), and folders
subscribed as in the manifest. Extra messages in a checked folder are errors; extra folders are
only listed. Exit status 0 when everything matches, 1 otherwise (differences on stderr).
"""

import argparse
import datetime as dt
import email.utils
import hashlib
import json
import re
import sys

from imaputil import (add_connection_args, connect_from_args, mutf7_encode, parse_list,
                      wire_mailbox)

MONTHS = {m: i + 1 for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])}

_FETCH_HEAD = re.compile(rb"^\d+ \((.*)$", re.S)


def internaldate_epoch(s):
    m = re.match(r"^ ?(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$", s)
    if not m:
        raise ValueError("bad INTERNALDATE %r" % s)
    d, mon, y, hh, mm, ss, sign, zh, zm = m.groups()
    off = dt.timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == "-" else 1)
    t = dt.datetime(int(y), MONTHS[mon], int(d), int(hh), int(mm), int(ss),
                    tzinfo=dt.timezone(off))
    return int(t.timestamp())


def header_value(raw, name):
    head = raw.split(b"\r\n\r\n", 1)[0]
    m = re.search(rb"(?im)^" + re.escape(name.encode()) + rb":[ \t]*(.*(?:\r\n[ \t].*)*)", head)
    return m.group(1).decode("utf-8", "replace").strip() if m else None


def fetch_all(conn, with_bodies):
    """UID FETCH 1:* of the selected folder -> list of message dicts."""
    items = "(UID FLAGS INTERNALDATE RFC822.SIZE %s)" % (
        "BODY.PEEK[]" if with_bodies else "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID X-MAILFERRY-SEQ)]")
    typ, data = conn.uid("FETCH", "1:*", items)
    if typ != "OK":
        raise SystemExit("UID FETCH failed: %r" % data)
    out = []
    for part in data:
        if not isinstance(part, tuple):
            continue  # the ")" closing each FETCH, or None for an empty folder
        head, lit = part
        meta = head.decode("ascii", "replace")
        uid = int(re.search(r"UID (\d+)", meta).group(1))
        flags = re.search(r"FLAGS \(([^)]*)\)", meta).group(1).split()
        idate = re.search(r'INTERNALDATE "([^"]+)"', meta).group(1)
        size = int(re.search(r"RFC822\.SIZE (\d+)", meta).group(1))
        seq = header_value(lit, "X-Mailferry-Seq")
        entry = {
            "uid": uid,
            "flags": [f for f in flags if f != "\\Recent"],
            "internaldate": idate,
            "internaldate_epoch": internaldate_epoch(idate),
            "size": size,
            "message_id": header_value(lit, "Message-ID"),
            "seq": int(seq) if seq and seq.isdigit() else None,
        }
        if with_bodies:
            entry["sha256"] = hashlib.sha256(lit).hexdigest()
            if len(lit) != size:
                entry["size_mismatch"] = len(lit)
        out.append(entry)
    return out


def dump(conn, with_bodies):
    typ, data = conn.list('""', '"*"')
    if typ != "OK":
        raise SystemExit("LIST failed: %r" % data)
    folders = parse_list(data)
    typ, data = conn.lsub('""', '"*"')
    subscribed = {n for _, _, n in parse_list(data)} if typ == "OK" else set()
    result = []
    for attrs, delim, name in sorted(folders, key=lambda f: f[2]):
        entry = {"name": name, "wire_name": mutf7_encode(name), "delimiter": delim,
                 "attributes": sorted(attrs), "subscribed": name in subscribed}
        if "\\Noselect" not in attrs and "\\NonExistent" not in attrs:
            typ, data = conn.select(wire_mailbox(name), readonly=True)
            if typ != "OK":
                entry["error"] = repr(data)
            else:
                entry["messages"] = fetch_all(conn, with_bodies)
        result.append(entry)
    if conn.state == "SELECTED":
        conn.unselect()
    return {"format": "mailferry-mailbox-dump/1", "folders": result,
            "subscribed_only": sorted(subscribed - {f[2] for f in folders})}


def verify(snapshot, manifest, prefix, sep, renames, include_deleted, check_subs):
    errors = []
    by_name = {f["name"]: f for f in snapshot["folders"]}
    expected = {}
    for m in manifest.get("messages", []):
        if m["deleted"] and not include_deleted:
            continue
        expected.setdefault(m["folder"], []).append(m)
    checked = set()
    for f in manifest["folders"]:
        path = f["path"]
        name = "INBOX" if path == ["INBOX"] else prefix + sep.join(path)
        name = renames.get(name, name)
        checked.add(name)
        got = by_name.get(name)
        if got is None:
            errors.append("folder %r missing" % name)
            continue
        if check_subs and got["subscribed"] != f["subscribed"]:
            errors.append("folder %r: subscribed=%s, expected %s"
                          % (name, got["subscribed"], f["subscribed"]))
        have = list(got.get("messages", []))
        want = expected.get(f["name"], [])
        if len(have) != len(want):
            errors.append("folder %r: %d messages, expected %d" % (name, len(have), len(want)))
        pool = {}
        for h in have:
            pool.setdefault(h.get("sha256"), []).append(h)
        for w in want:
            cands = pool.get(w["sha256"])
            if not cands:
                errors.append("folder %r: message seq=%s (%s) missing or altered"
                              % (name, w["seq"], w["message_id"]))
                continue
            h = cands.pop(0)
            if sorted(h["flags"]) != sorted(w["flags"]):
                errors.append("folder %r: message seq=%s flags %s, expected %s"
                              % (name, w["seq"], h["flags"], w["flags"]))
            if h["internaldate_epoch"] != w["internaldate_epoch"]:
                errors.append("folder %r: message seq=%s INTERNALDATE %s, expected %s"
                              % (name, w["seq"], h["internaldate"], w["internaldate"]))
            if h["size"] != w["size"]:
                errors.append("folder %r: message seq=%s RFC822.SIZE %d, expected %d"
                              % (name, w["seq"], h["size"], w["size"]))
        for rest in pool.values():
            for h in rest:
                errors.append("folder %r: unexpected message uid=%d seq=%s"
                              % (name, h["uid"], h["seq"]))
    extra = sorted(set(by_name) - checked)
    return errors, extra


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 1)[1])
    add_connection_args(ap)
    ap.add_argument("--no-bodies", action="store_true",
                    help="do not download bodies (no sha256); faster")
    ap.add_argument("-o", "--output", help="write the dump here instead of stdout")
    ap.add_argument("--verify", metavar="MANIFEST", help="check against a seed.py manifest")
    ap.add_argument("--prefix", default=None, help="this server's namespace prefix for --verify")
    ap.add_argument("--sep", default=None, help="this server's separator for --verify")
    ap.add_argument("--map", action="append", default=[], metavar="OLD=NEW",
                    help="expected rename on this server (after namespace translation)")
    ap.add_argument("--include-deleted", action="store_true",
                    help="--verify: \\Deleted messages must have been copied too")
    ap.add_argument("--no-subscriptions", action="store_true",
                    help="--verify: do not compare subscriptions")
    args = ap.parse_args()

    conn = connect_from_args(args)
    snapshot = dump(conn, with_bodies=not args.no_bodies or bool(args.verify))
    conn.logout()

    if not args.verify:
        out = json.dumps(snapshot, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
        if args.output:
            with open(args.output, "wb") as fh:
                fh.write(out)
        else:
            sys.stdout.buffer.write(out)
        return 0

    with open(args.verify, "rb") as fh:
        manifest = json.loads(fh.read().decode("utf-8"))
    prefix = manifest["prefix"] if args.prefix is None else args.prefix
    sep = manifest["separator"] if args.sep is None else args.sep
    renames = dict(m.split("=", 1) for m in args.map)
    errors, extra = verify(snapshot, manifest, prefix, sep, renames, args.include_deleted,
                           not args.no_subscriptions)
    if args.output:
        with open(args.output, "wb") as fh:
            fh.write(json.dumps(snapshot, indent=2, ensure_ascii=False).encode("utf-8"))
    for e in errors:
        print("verify: " + e, file=sys.stderr)
    if extra:
        print("verify: folders not in the manifest: %s" % ", ".join(extra), file=sys.stderr)
    n = sum(len(f.get("messages", [])) for f in snapshot["folders"])
    print("verify: %s (%d folders, %d messages on the server, %d differences)"
          % ("OK" if not errors else "FAILED", len(snapshot["folders"]), n, len(errors)),
          file=sys.stderr)
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
