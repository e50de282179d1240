#!/usr/bin/env python3
"""Verifies a benchmark copy: the destination mailbox must hold exactly the source's messages.

Usage:
  check.py snapshot --port P --user U --password-env VAR -o SNAP.json
  check.py compare  --port P --user U --password-env VAR --expect SNAP.json [--expect MORE.json]
                    [--strip-x-tuid] [-o REPORT.json]

snapshot reads every selectable folder of a mailbox (EXAMINE, BODY.PEEK[]: read-only) and
records per message the SHA-256 of its exact bytes, its flags and keywords (\\Recent ignored),
its internal date as an instant. compare reads the destination the same way and
requires, per folder of the expected snapshots (merged: a corpus plus messages added later by
gen_corpus --add, whose records gen_corpus writes itself), the same multiset of (SHA-256,
flags, internal date): nothing missing, nothing extra, nothing altered. Destination folders
that are not expected must be empty.

--system-flags-only: compare \\Seen \\Answered \\Flagged \\Draft \\Deleted only and report how many
messages lost (or changed) keywords: mbsync 1.4 propagates no keywords but $Forwarded.

--strip-x-tuid: mbsync adds an "X-TUID:" header to every message it uploads to find its UID
again (isync's "TUID" matching). With this option that one header line is removed before
hashing and the number of messages that carried it is reported, so mbsync's copies are still
checked byte for byte everywhere else.

Exit status 0 when the copy matches, 1 otherwise (the first differences on stderr).
It shares no code with mailferry.
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawimap import Conn, quote  # noqa: E402

MONTHS = {m: i + 1 for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])}
_DATE = re.compile(rb'INTERNALDATE "\s?(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) '
                   rb'([+-])(\d\d)(\d\d)"')
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_TUID = re.compile(rb"(?im)^X-TUID: [^\r\n]*\r\n")


def epoch(m):
    d, mon, y, hh, mm, ss, sign, zh, zm = m.groups()
    off = dt.timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == b"-" else 1)
    t = dt.datetime(int(y), MONTHS[mon.decode()], int(d), int(hh), int(mm), int(ss),
                    tzinfo=dt.timezone(off))
    return int(t.timestamp())


def record(sha, flags, when):
    return "%s %d %s" % (sha, when, " ".join(sorted(flags)))


def system_only(rec):
    """The record with its keywords removed (system flags start with a backslash)."""
    sha, when, *flags = rec.split(" ")
    return record(sha, [f for f in flags if f.startswith("\\")], int(when))


def read_mailbox(conn, strip_tuid=False):
    """{folder wire name: [record, ...]}, and the number of X-TUID headers stripped."""
    folders, stripped = {}, [0]
    for attrs, _, name in conn.list_folders():
        if "\\noselect" in attrs or "\\nonexistent" in attrs:
            continue
        conn.command(b"EXAMINE", quote(name))
        recs = []

        def on_fetch(text, lits):
            if b" FETCH " not in text or not lits:
                return
            body = lits[-1]
            if strip_tuid:
                head_end = body.find(b"\r\n\r\n")
                head = body[:head_end + 2] if head_end >= 0 else body
                new_head, n = _TUID.subn(b"", head, count=1)
                if n:
                    body = new_head + body[len(head):]
                    stripped[0] += 1
            fm = _FLAGS.search(text)
            flags = [f.decode() for f in fm.group(1).split()] if fm else []
            flags = [f for f in flags if f.lower() != "\\recent"]
            dm = _DATE.search(text)
            recs.append(record(hashlib.sha256(body).hexdigest(), flags, epoch(dm) if dm else 0))

        conn.command(b"UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])", on_untagged=on_fetch)
        folders[name.decode("ascii", "replace")] = sorted(recs)
    return folders, stripped[0]


def connect(a):
    pw = os.environ.get(a.password_env)
    if pw is None:
        raise SystemExit("check.py: environment variable %s is not set" % a.password_env)
    conn = Conn(a.host, a.port)
    conn.login(a.user, pw)
    return conn


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["snapshot", "compare"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-env", required=True)
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--strip-x-tuid", action="store_true")
    ap.add_argument("--system-flags-only", action="store_true",
                    help="compare system flags only; count messages whose keywords differ")
    ap.add_argument("-o", "--output")
    a = ap.parse_args()

    conn = connect(a)
    folders, stripped = read_mailbox(conn, a.strip_x_tuid and a.mode == "compare")
    conn.logout()
    if a.mode == "snapshot":
        snap = {"format": "mailferry-bench-snapshot/1", "folders": folders,
                "messages": sum(len(v) for v in folders.values())}
        with open(a.output, "w") as f:
            json.dump(snap, f)
        return 0

    expected = {}
    for path in a.expect:
        with open(path) as f:
            for name, recs in json.load(f)["folders"].items():
                expected.setdefault(name, []).extend(recs)
    problems = []
    keywords_lost = 0
    for name in sorted(set(expected) | set(folders)):
        want = sorted(expected.get(name, []))
        have = folders.get(name)
        if a.system_flags_only and have is not None:
            keywords_lost += len(set(want) - set(have))
            want = sorted(system_only(r) for r in want)
            have = sorted(system_only(r) for r in have)
        if have is None:
            if want:
                problems.append("folder %s: missing on the destination (%d messages)"
                                % (name, len(want)))
            continue
        if want == have:
            continue
        w, h = set(want), set(have)
        missing = [r for r in want if r not in h]
        extra = [r for r in have if r not in w]
        problems.append("folder %s: %d expected, %d present; %d missing or altered "
                        "(e.g. %s), %d extra or altered (e.g. %s)%s" % (
                            name, len(want), len(have), len(missing), missing[:1], len(extra),
                            extra[:1], "; duplicates" if not missing and not extra else ""))
    report = {"ok": not problems, "messages": sum(len(v) for v in folders.values()),
              "expected": sum(len(v) for v in expected.values()), "x_tuid_stripped": stripped,
              "keywords_lost": keywords_lost if a.system_flags_only else 0,
              "problems": problems[:20]}
    if a.output:
        with open(a.output, "w") as f:
            json.dump(report, f)
    for p in problems[:10]:
        print("check.py: " + p, file=sys.stderr)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
