"""quirk_imap_session: one client connection of tests/tools/quirk_imap.py.

Session(server, sock, sid).run() sends the greeting (PREAUTH with the preauth quirk), then reads
commands (a line and its literals, within MAX_LINE and MAX_LITERAL; "+" continuations for
synchronizing literals; a client silent for IO_TIMEOUT is dropped), checks the state each command
needs, calls the handler from COMMANDS with the server's lock held, writes the tagged answer and
records it in server.commands. It counts NO / BAD answers for exchange-10-errors and, after an
auth-not-connected login, answers every command but LOGOUT with NO. flags_line() builds the
FLAGS of the selected mailbox (padded with keywords by long-lines) for SELECT / EXAMINE.

Contract: runs on the connection's own thread (QuirkServer's socketserver handler); owns sock and
closes it when the client leaves, the connection fails, or Closed is raised (BYE). The server is
passed in, never imported, so this module does not depend on quirk_imap. Imports
quirk_imap_commands and quirk_imap_wire.
"""

import socket
import time

from quirk_imap_commands import COMMANDS
from quirk_imap_wire import (IO_TIMEOUT, LITERAL_AT_END, MAX_LINE, MAX_LITERAL, SYSTEM_FLAGS,
                             ImapError, Tokenizer)


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
            if cmd == "CREATE" and srv.q("create-overlap-crash") and self.state != "notauth":
                self.create_or_crash()
            if cmd.endswith("STORE") and srv.q("drop-on-store"):
                with srv.lock:
                    srv.stores_seen += 1
                    if srv.stores_seen == srv.qint("drop-on-store", 1):
                        srv.event(self.sid, "dropped-on-store")
                        srv.commands.append((self.sid, cmd, "DROPPED"))
                        raise Closed()
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
        except (IndexError, ValueError, TypeError):
            # A handler could not read its arguments (missing, or not the type it takes):
            # answered as Dovecot does, instead of dropping the connection.
            with srv.lock:
                srv.commands.append((self.sid, cmd, "BAD"))
            self.tagged(tag, "BAD", "Error in IMAP command %s: Invalid arguments." % cmd)
            return True
        with srv.lock:
            srv.commands.append((self.sid, cmd, status))
        return True

    def create_or_crash(self):
        """create-overlap-crash: the CREATE takes a while outside the store lock; one that
        meets another under way ends its session like Dovecot's panicking imap process."""
        srv = self.srv
        with srv.lock:
            if srv.creating:
                srv.event(self.sid, "create-overlap-crash")
                srv.commands.append((self.sid, "CREATE", "CRASH"))
                raise Closed()
            srv.creating += 1
        try:
            time.sleep(srv.qint("create-overlap-crash", 300) / 1000.0)
        finally:
            with srv.lock:
                srv.creating -= 1

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
