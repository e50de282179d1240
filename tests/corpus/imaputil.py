"""Small IMAP helpers shared by the corpus scripts (python3 stdlib only).

- Modified UTF-7 for mailbox names (RFC 3501 section 5.1.3), our own encoder/decoder.
- IMAP quoted strings.
- connect(): loopback-only connection with implicit TLS, STARTTLS or plaintext, and login
  (LOGIN, or AUTHENTICATE PLAIN with an authorization identity).
- Parsing of LIST / STATUS / APPENDUID replies from imaplib's raw data.
"""

import base64
import imaplib
import os
import re
import ssl
import sys

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


# ---- modified UTF-7 (RFC 3501 5.1.3) ---------------------------------------------------------

def _b64_modified(chars):
    raw = "".join(chars).encode("utf-16-be")
    return base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",")


def mutf7_encode(name):
    """Encodes a Unicode mailbox name as modified UTF-7.

    Printable US-ASCII (0x20..0x7e) stands for itself except "&", which becomes "&-"; every run
    of other characters becomes "&" + modified BASE64 of its UTF-16BE form (with "," for "/" and
    no padding) + "-".
    """
    out = []
    pending = []
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            if pending:
                out.append("&" + _b64_modified(pending) + "-")
                pending = []
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    if pending:
        out.append("&" + _b64_modified(pending) + "-")
    return "".join(out)


def mutf7_decode(text):
    """Decodes a modified UTF-7 mailbox name; raises ValueError on malformed input."""
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ord(ch) < 0x20 or ord(ch) > 0x7E:
            raise ValueError("non-ASCII character in modified UTF-7: %r" % text)
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        end = text.find("-", i + 1)
        if end < 0:
            raise ValueError("unterminated shift in modified UTF-7: %r" % text)
        chunk = text[i + 1:end]
        if chunk == "":
            out.append("&")
        else:
            b64 = chunk.replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            raw = base64.b64decode(b64, validate=True)
            if len(raw) % 2:
                raise ValueError("odd UTF-16 length in modified UTF-7: %r" % text)
            out.append(raw.decode("utf-16-be"))
        i = end + 1
    return "".join(out)


def quote(s):
    """An IMAP quoted string (only for text without CR/LF/NUL)."""
    if any(c in s for c in "\r\n\0"):
        raise ValueError("cannot quote CR/LF/NUL")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wire_mailbox(name):
    """A Unicode mailbox name as it goes on the wire: modified UTF-7, quoted."""
    return quote(mutf7_encode(name))


# ---- connection ------------------------------------------------------------------------------

def connect(host, port, user, password, ssl_mode="none", cafile=None, authzid=None):
    """Connects to a loopback IMAP server and logs in. ssl_mode: "ssl", "starttls" or "none"."""
    if host not in LOOPBACK_HOSTS:
        raise SystemExit("refusing to connect to %s: test corpus tools talk to loopback only" % host)
    ctx = None
    if ssl_mode in ("ssl", "starttls"):
        ctx = ssl.create_default_context(cafile=cafile)
    if ssl_mode == "ssl":
        conn = imaplib.IMAP4_SSL(host, port, ssl_context=ctx)
    else:
        conn = imaplib.IMAP4(host, port)
        if ssl_mode == "starttls":
            conn.starttls(ssl_context=ctx)
    if authzid is not None:
        token = ("%s\0%s\0%s" % (authzid, user, password)).encode("utf-8")
        conn.authenticate("PLAIN", lambda _: token)
    else:
        # imaplib does not quote the user name; "alice*admin" is not a valid atom.
        typ, data = conn._simple_command("LOGIN", quote(user), quote(password))
        if typ != "OK":
            raise imaplib.IMAP4.error("LOGIN failed: %r" % data)
        conn.state = "AUTH"
    return conn


def add_connection_args(parser):
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-env", required=True, metavar="VAR",
                        help="name of the environment variable holding the password")
    parser.add_argument("--authzid", help="log in with AUTHENTICATE PLAIN as this user "
                                          "(authcid = --user)")
    parser.add_argument("--ssl", action="store_true", help="implicit TLS")
    parser.add_argument("--starttls", action="store_true", help="STARTTLS on a plain port")
    parser.add_argument("--cafile", help="CA file to verify the server (e.g. instance cert.pem)")


def connect_from_args(args):
    password = os.environ.get(args.password_env)
    if password is None:
        raise SystemExit("environment variable %s is not set" % args.password_env)
    mode = "ssl" if args.ssl else ("starttls" if args.starttls else "none")
    return connect(args.host, args.port, args.user, password, mode, args.cafile, args.authzid)


# ---- reply parsing ---------------------------------------------------------------------------

_LIST_RE = re.compile(rb'^\(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") (.*)$')


def _unquote(b):
    if b.startswith(b'"'):
        return re.sub(rb'\\(.)', rb'\1', b[1:-1])
    return b


def parse_list(data):
    """imaplib LIST/LSUB data -> [(attributes set, delimiter or None, Unicode name)]."""
    out = []
    i = 0
    while i < len(data):
        item = data[i]
        i += 1
        if item is None:
            continue
        if isinstance(item, tuple):  # name sent as a literal
            head, lit = item
            m = _LIST_RE.match(head.rstrip(b"{0123456789}").rstrip() + b" x")
            name = lit
        else:
            m = _LIST_RE.match(item)
            name = _unquote(m.group(3)) if m else None
        if not m:
            raise ValueError("cannot parse LIST reply %r" % (item,))
        attrs = set(a.decode() for a in m.group(1).split())
        delim = None if m.group(2) == b"NIL" else _unquote(m.group(2)).decode()
        out.append((attrs, delim, mutf7_decode(name.decode("ascii"))))
    return out


def parse_status(data):
    """imaplib STATUS data -> {ITEM: int}."""
    blob = b" ".join(d for d in data if isinstance(d, bytes))
    m = re.search(rb"\(([^)]*)\)\s*$", blob)
    if not m:
        raise ValueError("cannot parse STATUS reply %r" % (data,))
    parts = m.group(1).split()
    return {parts[j].decode(): int(parts[j + 1]) for j in range(0, len(parts) - 1, 2)}


def parse_appenduid(data):
    """Tagged APPEND reply -> (uidvalidity, uid) or None without UIDPLUS."""
    blob = b" ".join(d for d in data if isinstance(d, bytes))
    m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", blob)
    return (int(m.group(1)), int(m.group(2))) if m else None


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    # Self-test of the modified UTF-7 codec.
    cases = {
        "INBOX": "INBOX",
        "Entwürfe alt": "Entw&APw-rfe alt",
        "日本語\u3000フォルダ": "&ZeVnLIqeMAAw1TCpMOswwA-",
        "a&b": "a&-b",
        "~peter/mail/台北/日本語": "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
        "€": "&IKw-",
        "😀": "&2D3eAA-",
    }
    for plain, enc in cases.items():
        got = mutf7_encode(plain)
        assert got == enc, (plain, got, enc)
        assert mutf7_decode(enc) == plain, (enc, mutf7_decode(enc))
    print("mutf7 self-test ok")
