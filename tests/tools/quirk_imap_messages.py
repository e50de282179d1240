"""quirk_imap_messages: the commands on the messages of the selected mailbox in
tests/tools/quirk_imap.py: [UID] FETCH, [UID] SEARCH, [UID] STORE and EXPUNGE, with their helpers
(FETCH items and BODY[...] sections, the FETCH response builder, the search-key evaluator).

Contract (the same for every handler, see quirk_imap_commands): handler(s, tag, args, uid) with
s the Session (its srv, box, readonly and sid; s.line() writes an untagged response, s.seq_of()
gives a message's sequence number), args the command's tokens after its name, uid True for the
UID form. Session.dispatch calls it with the server's lock held, only in the state marked by
@command. It returns None or the text of the tagged OK, or raises ImapError for NO / BAD.
Quirks served here: fetch-order, wrong-rfc822-size, unsolicited, phantom-uid.
Imports only quirk_imap_wire.
"""

import random
import re

from quirk_imap_wire import (ImapError, command, header_block, header_fields, header_value,
                             imap_date, in_ranges, nstring_literal, parse_set, quoted)


SECTION = re.compile(rb"^(BODY(?:\.PEEK)?|BINARY(?:\.PEEK)?)\[([^\]]*)\](?:<(\d+)(?:\.(\d+))?>)?$",
                     re.I)


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
