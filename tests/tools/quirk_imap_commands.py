"""quirk_imap_commands: the command handlers of tests/tools/quirk_imap.py other than the message
ones, and COMMANDS, the table Session.dispatch looks commands up in (name without "UID ").

Contract of a handler: handler(s, tag, args, uid) with s the Session (its srv, state, box,
readonly, sid; s.line() writes an untagged response, s.tagged() a tagged one), args the
command's tokens after its name (bytes atoms, Str / Lit, lists), uid True for the UID form.
Session.dispatch calls it with the server's lock held and only in the state marked by
@command(state). It returns None or the text of the tagged OK (dispatch adds the tag and "OK"),
False after answering itself to end the session (LOGOUT), or raises ImapError for NO / BAD.
A handler may change s.state, s.box and s.readonly and the server's mailboxes.
Quirks served here: bad-id, bad-enable, bad-namespace, nil-delimiter, 8bit-names (LIST
patterns), auth-not-connected, courier-examine, refuse-names, fold-case, yahoo-crlf, max-size,
refuse-keywords, no-uidplus. Imports quirk_imap_wire and quirk_imap_messages.
"""

import base64
import re

from quirk_imap_messages import cmd_expunge, cmd_fetch, cmd_search, cmd_store
from quirk_imap_wire import (ImapError, Lit, Str, astring, canon_flag, command, imap_date,
                             mutf7_decode, parse_imap_date, quoted)


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
        if srv.q("append-drops-flagged") and any(f.lower() == "\\flagged" for f in flags):
            srv.event(s.sid, "append-dropped-flagged")
            flags = [f for f in flags if f.lower() != "\\flagged"]
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


COMMANDS = {
    "CAPABILITY": cmd_capability, "NOOP": cmd_noop, "LOGOUT": cmd_logout, "STARTTLS": cmd_starttls,
    "LOGIN": cmd_login, "AUTHENTICATE": cmd_authenticate, "ID": cmd_id, "ENABLE": cmd_enable,
    "NAMESPACE": cmd_namespace, "LIST": cmd_list, "LSUB": cmd_lsub, "STATUS": cmd_status,
    "SELECT": cmd_select, "EXAMINE": cmd_examine, "CLOSE": cmd_close, "UNSELECT": cmd_unselect,
    "CHECK": cmd_check, "CREATE": cmd_create, "SUBSCRIBE": cmd_subscribe,
    "UNSUBSCRIBE": cmd_unsubscribe, "APPEND": cmd_append, "FETCH": cmd_fetch,
    "SEARCH": cmd_search, "STORE": cmd_store, "EXPUNGE": cmd_expunge,
}
