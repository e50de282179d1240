#!/usr/bin/env python3
"""Scriptable fake IMAP server: expected client lines -> server replies, recording every byte
the client sent (Python 3 standard library only, loopback only).

WHY IT EXISTS: only for server behaviour that no real server available here shows. Everything
a real Dovecot does is tested against Dovecot (tests/servers/). Scripts written with this tool
imitate, each saying so, servers such as:
  - Microsoft Exchange / Office 365: admin logins "domain\\admin\\user", LOGINDISABLED on a
    plaintext port, a login that is "accepted" and then "User is authenticated but not
    connected", XOAUTH2;
  - Gmail: XOAUTH2 / OAUTHBEARER with SASL-IR;
  - Mirapoint: "#user@domain#admin#" admin logins;
  - Kerio Connect: X-MASTERAUTH + X-SETUSER master authentication;
  - Novell/Micro Focus GroupWise: AUTHENTICATE XGWTRUSTEDAPP trusted-application logins.
It speaks just enough IMAP framing to be scripted: it is not an IMAP server.

MODEL. The client's input is cut into *units*: one line without its CRLF, together with its
literals ("{n}" gets "+ go ahead" before the n bytes are read, "{n+}" is read at once), or,
during an AUTHENTICATE exchange, one response line. For each unit:
  1. the next unconsumed Step is tried: re.fullmatch(step.pattern, unit as latin-1, re.S);
  2. else each Responder (any order, any number of times), e.g. EMPTY_MAILBOX;
  3. else the unit is recorded in `errors` and answered "<tag> BAD fake_imap: unexpected".
Replies are strings (UTF-8, CRLF added) in which "{tag}" (the unit's first word),
"{last_tag}" (the "tag" group of the last match that had one: the command an AUTHENTICATE
response line belongs to) and "{NAME}" for each named group of the match are replaced, or raw
bytes sent as they are.
A Step or Responder with close=True closes the connection after its replies.
Every connection (the client may reconnect) starts the same script from its first Step.

    with FakeImapServer("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready",
                        [Step(r"(?P<tag>\\S+) AUTHENTICATE PLAIN (?P<ir>\\S+)", "{tag} OK done")],
                        responders=EMPTY_MAILBOX) as fake:
        ... run the client against 127.0.0.1:fake.port ...
        fake.received()   # [b"M1 AUTHENTICATE PLAIN AGFsaWNl...", ...] of connection 0
        fake.errors       # units nothing matched

Command line (a JSON script, for trying a client by hand):
    fake_imap.py --script FILE.json [--port 0] [--record OUT.json]
    FILE.json: {"greeting": "...", "steps": [{"expect": RE, "reply": [...], "close": false}],
                "responders": [...same...], "empty_mailbox": true}
Prints "PORT <n>" once listening; runs until SIGTERM/SIGINT; --record writes every
connection's units (latin-1 strings) as JSON at exit.
"""

import argparse
import json
import re
import signal
import socket
import sys
import threading

MAX_LINE = 1 << 20       # bytes of one line: a client sending more is broken
MAX_LITERAL = 64 << 20   # bytes of one literal
IO_TIMEOUT = 30.0        # a silent client is dropped after this many seconds


class Step:
    """One expected client unit and the replies to it."""

    def __init__(self, pattern, *replies, close=False):
        self.pattern = pattern
        self.regex = re.compile(pattern, re.S)
        self.replies = list(replies)
        self.close = close

    def __repr__(self):
        return "Step(%r)" % self.pattern


Responder = Step  # same shape; used out of order, any number of times


# An empty mailbox (INBOX only, no messages) for after the login, so a client can run its whole
# session. Generic IMAP, not any particular server.
EMPTY_MAILBOX = [
    Responder(r'(?P<tag>\S+) CAPABILITY',
              "* CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS NAMESPACE", "{tag} OK CAPABILITY done"),
    Responder(r'(?P<tag>\S+) NOOP', "{tag} OK NOOP done"),
    Responder(r'(?P<tag>\S+) ID .*', "* ID NIL", "{tag} OK ID done"),
    Responder(r'(?P<tag>\S+) ENABLE .*', "{tag} OK ENABLE done"),
    Responder(r'(?P<tag>\S+) NAMESPACE', '* NAMESPACE (("" "/")) NIL NIL',
              "{tag} OK NAMESPACE done"),
    Responder(r'(?P<tag>\S+) LIST "" ""', '* LIST (\\Noselect) "/" ""', "{tag} OK LIST done"),
    Responder(r'(?P<tag>\S+) LIST .*', '* LIST (\\HasNoChildren) "/" INBOX', "{tag} OK LIST done"),
    Responder(r'(?P<tag>\S+) LSUB .*', '* LSUB () "/" INBOX', "{tag} OK LSUB done"),
    Responder(r'(?P<tag>\S+) STATUS (?P<mailbox>"[^"]*"|\S+) .*',
              "* STATUS {mailbox} (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 1 UNSEEN 0 RECENT 0)",
              "{tag} OK STATUS done"),
    Responder(r'(?P<tag>\S+) (?:EXAMINE|SELECT) .*',
              "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)", "* 0 EXISTS",
              "* 0 RECENT", "* OK [UIDVALIDITY 1] UIDs valid", "* OK [UIDNEXT 1] next UID",
              "{tag} OK [READ-ONLY] done"),
    Responder(r'(?P<tag>\S+) (?:UID )?(?:FETCH|SEARCH) .*', "{tag} OK done"),
    Responder(r'(?P<tag>\S+) (?:CLOSE|UNSELECT|CHECK)', "{tag} OK done"),
    Responder(r'(?P<tag>\S+) LOGOUT', "* BYE fake_imap: logging out", "{tag} OK LOGOUT done",
              close=True),
]


class Connection:
    """What happened on one accepted connection."""

    def __init__(self, number):
        self.number = number
        self.received = []   # client units, bytes
        self.sent = []       # server lines/bytes, bytes
        self.steps_done = 0
        self.last_tag = ""
        self.closed = threading.Event()


class FakeImapServer:
    def __init__(self, greeting, steps=(), responders=(), host="127.0.0.1", port=0):
        if host not in ("127.0.0.1", "::1"):
            raise ValueError("fake_imap listens on loopback only")
        self.greeting = greeting
        self.steps = list(steps)
        self.responders = list(responders)
        self.connections = []
        self.errors = []  # (connection number, unit) that nothing matched
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(8)
        self.port = self._listener.getsockname()[1]
        self._stopping = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stopping = True
        try:
            self._listener.close()
        except OSError:
            pass
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- results --------------------------------------------------------------------------

    def received(self, connection=0):
        """The units the client sent on connection `connection` (bytes, CRLF removed)."""
        with self._lock:
            return list(self.connections[connection].received) if connection < len(
                self.connections) else []

    def all_received(self):
        with self._lock:
            return b"\r\n".join(b"\r\n".join(c.received) for c in self.connections)

    def steps_done(self, connection=0):
        with self._lock:
            return self.connections[connection].steps_done if connection < len(
                self.connections) else 0

    def wait_closed(self, connection=0, timeout=10):
        if connection < len(self.connections):
            self.connections[connection].closed.wait(timeout)

    # -- serving --------------------------------------------------------------------------

    def _accept_loop(self):
        # Closing a listening socket does not wake a blocked accept(): poll instead.
        self._listener.settimeout(0.1)
        while not self._stopping:
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(None)
            with self._lock:
                conn = Connection(len(self.connections))
                self.connections.append(conn)
            threading.Thread(target=self._serve, args=(sock, conn), daemon=True).start()

    def _send(self, sock, conn, data):
        with self._lock:
            conn.sent.append(data)
        sock.sendall(data)

    def _serve(self, sock, conn):
        sock.settimeout(IO_TIMEOUT)
        reader = _Reader(sock)
        try:
            self._send(sock, conn, self.greeting.encode("utf-8") + b"\r\n")
            while True:
                unit = reader.unit(lambda: self._send(sock, conn, b"+ go ahead\r\n"))
                if unit is None:
                    return
                with self._lock:
                    conn.received.append(unit)
                if not self._answer(sock, conn, unit):
                    return
        except (OSError, ValueError):
            return
        finally:
            try:
                sock.close()
            except OSError:
                pass
            conn.closed.set()

    def _answer(self, sock, conn, unit):
        """Replies to one unit; False when the connection must close."""
        text = unit.decode("latin-1")
        tag = text.split(" ", 1)[0]
        chosen, match = None, None
        if conn.steps_done < len(self.steps):
            step = self.steps[conn.steps_done]
            match = step.regex.fullmatch(text)
            if match:
                chosen = step
                with self._lock:
                    conn.steps_done += 1
        if chosen is None:
            for responder in self.responders:
                match = responder.regex.fullmatch(text)
                if match:
                    chosen = responder
                    break
        if chosen is None:
            with self._lock:
                self.errors.append((conn.number, unit))
            self._send(sock, conn, ("%s BAD fake_imap: unexpected command\r\n" % tag).encode(
                "latin-1"))
            return True
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        if "tag" in groups:
            conn.last_tag = groups["tag"]
        values = {"tag": tag, "last_tag": conn.last_tag}
        values.update(groups)
        for reply in chosen.replies:
            if isinstance(reply, bytes):
                self._send(sock, conn, reply)
            else:
                self._send(sock, conn, _fill(reply, values).encode("utf-8") + b"\r\n")
        return not chosen.close


def _fill(template, values):
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


class _Reader:
    """Cuts the client's bytes into units (a line plus its literals)."""

    LITERAL = re.compile(rb"\{(\d+)(\+?)\}$")

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def _line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise ValueError("line too long")
            if not self._fill():
                return None
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n:
            if not self._fill():
                return None
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def unit(self, go_ahead):
        unit = b""
        while True:
            line = self._line()
            if line is None:
                return None if not unit else unit
            unit += line
            m = self.LITERAL.search(line)
            if not m:
                return unit
            size = int(m.group(1))
            if size > MAX_LITERAL:
                raise ValueError("literal too large")
            if not m.group(2):
                go_ahead()
            data = self._bytes(size)
            if data is None:
                return None
            unit += b"\r\n" + data


# -- command line --------------------------------------------------------------------------

def _steps_from_json(items):
    return [Step(i["expect"], *i.get("reply", []), close=i.get("close", False)) for i in items]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--script", required=True, help="JSON script (see the module docstring)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--record", help="write the client's units as JSON here at exit")
    args = ap.parse_args()
    with open(args.script, encoding="utf-8") as f:
        script = json.load(f)
    responders = _steps_from_json(script.get("responders", []))
    if script.get("empty_mailbox"):
        responders += EMPTY_MAILBOX
    server = FakeImapServer(script["greeting"], _steps_from_json(script.get("steps", [])),
                            responders, port=args.port).start()
    print("PORT %d" % server.port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop()
    if args.record:
        with open(args.record, "w", encoding="utf-8") as f:
            json.dump({"connections": [[u.decode("latin-1") for u in c.received]
                                       for c in server.connections],
                       "errors": [[n, u.decode("latin-1")] for n, u in server.errors]}, f,
                      indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
