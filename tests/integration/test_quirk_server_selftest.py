"""Self-test of tests/tools/quirk_imap.py with Python's imaplib (and a raw socket where imaplib
hides the bytes): the fake server speaks real IMAP, and each quirk switch does what its header
says. imaplib shares no code with the server nor with mailferry, so the check is independent.
No Dovecot needed; runs in a few seconds."""

import base64
import hashlib
import imaplib
import os
import re
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import quirk_imap  # noqa: E402
from quirk_imap import QuirkServer, sample_fixture  # noqa: E402


class Raw:
    """A byte-exact IMAP client: send a command, get every byte up to its tagged answer."""

    def __init__(self, port, greeting=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.n = 0
        self.greeting = self.readline() if greeting else None

    def readline(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("server closed the connection; got %r" % self.buf)
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def read_until_tag(self, tag):
        out = b""
        while True:
            line = self.readline()
            out += line
            m = re.search(rb"\{(\d+)\+?\}\r\n$", line)
            if m:
                n = int(m.group(1))
                while len(self.buf) < n:
                    data = self.sock.recv(65536)
                    if not data:
                        raise EOFError("closed inside a literal")
                    self.buf += data
                out += self.buf[:n]
                self.buf = self.buf[n:]
                continue
            if line.startswith(tag + b" "):
                return out

    def cmd(self, text):
        self.n += 1
        tag = b"R%d" % self.n
        self.sock.sendall(tag + b" " + text + b"\r\n")
        return self.read_until_tag(tag)

    def close(self):
        self.sock.close()


def folder(dump, name):
    return next(f for f in dump["folders"] if f["name"] == name)


def login(port):
    conn = imaplib.IMAP4("127.0.0.1", port)
    conn.login("alice", "alice-pw")
    return conn


class ServerCase(unittest.TestCase):
    quirks = ()
    fixture = None

    def setUp(self):
        self.srv = QuirkServer(self.fixture or sample_fixture(), quirks=self.quirks).start()
        self.addCleanup(self.srv.stop)

    def raw(self, logged_in=True):
        r = Raw(self.srv.port)
        self.addCleanup(r.close)
        if logged_in:
            self.assertIn(b"R1 OK", r.cmd(b'LOGIN alice "alice-pw"'))
        return r


class PlainServer(ServerCase):
    def test_login_capability_namespace_id_enable(self):
        c = login(self.srv.port)
        typ, caps = c.capability()
        self.assertEqual(typ, "OK")
        for cap in (b"IMAP4rev1", b"LITERAL+", b"UIDPLUS", b"MULTIAPPEND", b"NAMESPACE", b"ID"):
            self.assertIn(cap, caps[0].split())
        self.assertEqual(c.namespace()[1][0], b'(("" "/")) NIL NIL')
        self.assertEqual(c.enable("CONDSTORE")[0], "OK")
        self.assertEqual(c.noop()[0], "OK")
        out = self.raw().cmd(b'ID ("name" "selftest")')  # imaplib has no ID command
        self.assertIn(b'* ID ("name" "quirk_imap" "vendor" "mailferry tests")\r\n', out)
        self.assertEqual(c.logout()[0], "BYE")

    def test_wrong_password_and_authenticate_plain(self):
        c = imaplib.IMAP4("127.0.0.1", self.srv.port)
        with self.assertRaises(imaplib.IMAP4.error):
            c.login("alice", "wrong")
        c.authenticate("PLAIN", lambda _: b"\0alice\0alice-pw")
        self.assertEqual(c.state, "AUTH")
        c.logout()

    def test_list_lsub_status_select_fetch_match_the_fixture(self):
        fixture = sample_fixture()
        c = login(self.srv.port)
        typ, data = c.list('""', "*")
        self.assertEqual(typ, "OK")
        listed = b"\n".join(data)
        for name in (b'"INBOX"', b'"Sent"', b'"Work/Projects"', b'"My Folder"',
                     b'"Entw&APw-rfe"'):
            self.assertIn(name, listed)
        self.assertIn(b'(\\HasNoChildren \\Sent) "/" "Sent"', listed)
        self.assertIn(b'(\\HasChildren) "/" "Work"', listed)
        self.assertEqual(c.lsub('""', "*")[0], "OK")
        inbox = fixture["folders"][0]
        typ, data = c.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY)")
        self.assertIn(b"MESSAGES %d" % len(inbox["messages"]), data[0])
        self.assertIn(b"UIDVALIDITY 1000", data[0])
        typ, data = c.select("INBOX", readonly=True)
        self.assertEqual(int(data[0]), len(inbox["messages"]))
        typ, data = c.uid("FETCH", "1:*",
                          "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] "
                          "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        self.assertEqual(typ, "OK")
        parts = [p for p in data if isinstance(p, tuple)]
        bodies = [p[1] for p in parts if b"BODY[]" in p[0]]
        self.assertEqual(len(bodies), len(inbox["messages"]))
        for got, want in zip(bodies, inbox["messages"]):
            self.assertEqual(got, want["body"].encode())
        # Read-only: nothing became \Seen.
        self.assertEqual(folder(self.srv.dump(), "INBOX")["messages"][0]["flags"],
                         inbox["messages"][0]["flags"])
        typ, data = c.uid("SEARCH", None, "HEADER", "Message-ID", "quirk-1-2@")
        self.assertEqual(data[0], b"2")
        typ, data = c.uid("SEARCH", None, "ALL")
        self.assertEqual(data[0].split(), [b"%d" % i for i in range(1, 7)])
        c.logout()

    def test_body_without_peek_sets_seen_only_when_read_write(self):
        c = login(self.srv.port)
        c.select("INBOX", readonly=True)
        c.uid("FETCH", "1", "(BODY[])")
        self.assertNotIn("\\Seen", folder(self.srv.dump(), "INBOX")["messages"][0]["flags"])
        c.select("INBOX")
        c.uid("FETCH", "1", "(BODY[])")
        self.assertIn("\\Seen", folder(self.srv.dump(), "INBOX")["messages"][0]["flags"])
        c.logout()

    def test_create_subscribe_append_with_flags_and_date(self):
        c = login(self.srv.port)
        self.assertEqual(c.create("New/Deep")[0], "OK")
        self.assertEqual(c.create("New/Deep")[0], "NO")
        self.assertEqual(c.subscribe("New/Deep")[0], "OK")
        msg = b"Subject: x\r\nMessage-ID: <x@y>\r\n\r\nhello\r\n"
        typ, data = c.append("New/Deep", "(\\Seen $Label1)", '"01-Feb-2021 10:11:12 +0100"', msg)
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0], rb"\[APPENDUID \d+ 1\]")
        folders = {f["name"]: f for f in self.srv.dump()["folders"]}
        self.assertTrue(folders["New/Deep"]["subscribed"])
        self.assertFalse(folders["New"]["noselect"])
        m = folders["New/Deep"]["messages"][0]
        self.assertEqual(m["flags"], ["\\Seen", "$Label1"])
        self.assertEqual(m["internaldate"], "01-Feb-2021 10:11:12 +0100")
        self.assertEqual(m["sha256"], hashlib.sha256(msg).hexdigest())
        self.assertEqual(m["message_id"], "<x@y>")
        c.logout()

    def test_literal_plus_and_multiappend(self):
        r = self.raw()
        m1, m2 = b"Subject: one\r\n\r\n1\r\n", b"Subject: two\r\n\r\n2\r\n"
        out = r.cmd(b'APPEND INBOX (\\Flagged) {%d+}\r\n%s () "02-Mar-2022 01:02:03 +0000" '
                    b"{%d+}\r\n%s" % (len(m1), m1, len(m2), m2))
        self.assertRegex(out, rb"R2 OK \[APPENDUID 1000 7:8\]")
        msgs = folder(self.srv.dump(), "INBOX")["messages"]
        self.assertEqual([m["uid"] for m in msgs[-2:]], [7, 8])
        self.assertEqual(msgs[-2]["flags"], ["\\Flagged"])
        self.assertEqual(msgs[-1]["internaldate"], "02-Mar-2022 01:02:03 +0000")

    def test_fetch_response_order_is_uid_first(self):
        r = self.raw()
        r.cmd(b"EXAMINE INBOX")
        out = r.cmd(b"UID FETCH 1 (FLAGS BODY.PEEK[] RFC822.SIZE)")
        self.assertRegex(out, rb"^\* 1 FETCH \(UID 1 FLAGS \(\) RFC822\.SIZE \d+ BODY\[\] \{")

    def test_dump_and_fixture_round_trip(self):
        d = self.srv.dump(bodies=True)
        fixture = {"folders": [{"name": f["name"], "messages": [
            {"uid": m["uid"], "flags": m["flags"], "internaldate": m["internaldate"],
             "body_b64": m["body_b64"]} for m in f["messages"]]}
            for f in d["folders"]]}
        again = QuirkServer(fixture)
        self.assertEqual([[m["sha256"] for m in f["messages"]] for f in again.dump()["folders"]],
                         [[m["sha256"] for m in f["messages"]] for f in d["folders"]])


class NoUidplus(ServerCase):
    quirks = ["no-uidplus"]

    def test_no_capability_no_appenduid(self):
        c = login(self.srv.port)
        self.assertNotIn(b"UIDPLUS", c.capability()[1][0].split())
        typ, data = c.append("INBOX", None, None, b"Subject: a\r\n\r\nb\r\n")
        self.assertEqual(typ, "OK")
        self.assertNotIn(b"APPENDUID", data[0])


class NilDelimiter(ServerCase):
    quirks = ["nil-delimiter"]

    def test_nil_in_list_and_namespace(self):
        c = login(self.srv.port)
        self.assertIn(b'NIL "Work/Projects"', b"\n".join(c.list('""', "*")[1]))
        self.assertEqual(c.namespace()[1][0], b'(("" NIL)) NIL NIL')
        # Flat: no implied "Work" parent.
        self.assertNotIn("Work", {f["name"] for f in self.srv.dump()["folders"]})


class ListUnquotedAndLiteral(ServerCase):
    quirks = ["list-unquoted"]

    def test_unquoted_names_with_spaces(self):
        out = self.raw().cmd(b'LIST "" "*"')
        self.assertIn(b'* LIST (\\HasNoChildren) "/" My Folder\r\n', out)
        self.assertIn(b'"/" Entw&APw-rfe\r\n', out)

    def test_literal_names(self):
        self.srv.quirks = {"list-literal": None}
        out = self.raw().cmd(b'LSUB "" "*"')
        self.assertIn(b'* LSUB (\\HasNoChildren) "/" {9}\r\nMy Folder\r\n', out)


class InboxCase(ServerCase):
    quirks = ["inbox-case=iNbOx"]

    def test_inbox_listed_in_odd_case_and_found_in_any(self):
        out = self.raw().cmd(b'LIST "" "*"')
        self.assertIn(b'"/" "iNbOx"\r\n', out)
        c = login(self.srv.port)
        for name in ("INBOX", "inbox", "iNbOx"):
            self.assertEqual(c.select(name, readonly=True)[0], "OK")


class FetchOrder(ServerCase):
    quirks = ["fetch-order"]

    def test_body_first_uid_last(self):
        r = self.raw()
        r.cmd(b"EXAMINE INBOX")
        out = r.cmd(b"UID FETCH 1:2 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
        fetches = re.findall(rb"\* (\d+) FETCH \(BODY\[\] \{\d+\}\r\n", out)
        self.assertEqual(fetches, [b"1", b"2"])
        self.assertRegex(out, rb"UID 1\)\r\n")
        self.assertRegex(out, rb"UID 2\)\r\n")


class Unsolicited(ServerCase):
    quirks = ["unsolicited"]

    def test_fetch_exists_expunge_mid_fetch(self):
        r = self.raw()
        r.cmd(b"EXAMINE INBOX")
        listing = r.cmd(b"UID FETCH 1:* (UID FLAGS RFC822.SIZE)")
        self.assertRegex(listing, rb"\* 2 FETCH \(FLAGS \([^)]*\)\)\r\n")  # no UID
        out = r.cmd(b"UID FETCH 1:* (UID BODY.PEEK[])")
        self.assertIn(b"* 7 EXISTS\r\n", out)
        self.assertIn(b"* 2 EXPUNGE\r\n", out)
        uids = [int(u) for u in re.findall(rb"FETCH \(UID (\d+) BODY", out)]
        self.assertEqual(uids, [1, 3, 4, 5, 6])  # UID 2 expunged, the new 7 not asked for
        # After the expunge, sequence numbers moved down: UID 3 is now message 2.
        self.assertIn(b"* 2 FETCH (UID 3 BODY[]", out)
        inbox = folder(self.srv.dump(), "INBOX")
        self.assertEqual([m["uid"] for m in inbox["messages"]], [1, 3, 4, 5, 6, 7])


class WrongSizeAndBareLf(ServerCase):
    quirks = ["wrong-rfc822-size=-5", "bare-lf"]

    def test_sizes_and_line_ends(self):
        c = login(self.srv.port)
        c.select("INBOX", readonly=True)
        typ, data = c.uid("FETCH", "1", "(RFC822.SIZE BODY.PEEK[])")
        head, body = data[0]
        self.assertNotIn(b"\r", body)
        self.assertIn(b"\n", body)
        size = int(re.search(rb"RFC822\.SIZE (\d+)", head).group(1))
        self.assertEqual(size, len(body) - 5)
        c.append("INBOX", None, None, b"Subject: a\r\n\r\nb\r\n")
        self.assertEqual(folder(self.srv.dump(), "INBOX")["messages"][-1]["size"], len(b"Subject: a\n\nb\n"))


class EightBitNames(ServerCase):
    quirks = ["8bit-names"]

    def test_raw_utf8_names_both_ways(self):
        r = self.raw()
        out = r.cmd(b'LIST "" "*"')
        self.assertIn('"/" "Entwürfe"\r\n'.encode("utf-8"), out)
        entw = "Entwürfe".encode("utf-8")
        self.assertIn(b"OK", r.cmd(b"EXAMINE {%d+}\r\n%s" % (len(entw), entw)).splitlines()[-1])
        self.assertIn(b"OK", r.cmd(b"EXAMINE Entw&APw-rfe").splitlines()[-1])


class BadIdEnableNamespace(ServerCase):
    quirks = ["bad-id", "bad-enable", "bad-namespace"]

    def test_announced_but_bad(self):
        r = self.raw()
        caps = r.cmd(b"CAPABILITY")
        for cap in (b"ID", b"ENABLE", b"NAMESPACE"):
            self.assertIn(b" " + cap, caps)
        self.assertIn(b"R3 BAD", r.cmd(b"ID NIL"))
        self.assertIn(b"R4 BAD", r.cmd(b"ENABLE UTF8=ACCEPT"))
        self.assertIn(b"R5 BAD", r.cmd(b"NAMESPACE"))


class Preauth(ServerCase):
    quirks = ["preauth"]

    def test_preauth_greeting(self):
        c = imaplib.IMAP4("127.0.0.1", self.srv.port)
        self.assertEqual(c.state, "AUTH")
        self.assertEqual(c.select("INBOX")[0], "OK")
        c.logout()


class LongLines(ServerCase):
    quirks = ["long-lines=500000"]

    def test_flags_lines(self):
        out = self.raw().cmd(b"EXAMINE INBOX")
        lines = out.split(b"\r\n")
        self.assertGreater(len(lines[0]), 500000)
        self.assertTrue(lines[0].startswith(b"* FLAGS ("))
        self.assertGreater(len(lines[1]), 500000)
        self.assertIn(b"\\*)] Flags permitted.", lines[1])


class NoselectParents(ServerCase):
    quirks = ["noselect-parents"]

    def test_parent_is_noselect(self):
        c = login(self.srv.port)
        self.assertIn(b'(\\Noselect \\HasChildren) "/" "Work"', b"\n".join(c.list('""', "*")[1]))
        self.assertEqual(c.select("Work")[0], "NO")
        self.assertEqual(c.status("Work", "(MESSAGES)")[0], "NO")
        self.assertEqual(c.select("Work/Projects")[0], "OK")
        # CREATE of the parent makes it a real folder.
        self.assertEqual(c.create("Work")[0], "OK")
        self.assertEqual(c.select("Work")[0], "OK")


class PhantomUid(ServerCase):
    quirks = ["phantom-uid=3"]

    def test_listed_but_not_fetched(self):
        c = login(self.srv.port)
        self.assertIn(b"iSCREAM", c.welcome)
        c.select("INBOX", readonly=True)
        typ, data = c.uid("FETCH", "1:*", "(UID RFC822.SIZE)")
        self.assertIn(b"UID 3 ", b" ".join(d for d in data if isinstance(d, bytes)))
        self.assertEqual(c.uid("SEARCH", None, "UID", "3")[1][0], b"3")
        typ, data = c.uid("FETCH", "2:4", "(UID BODY.PEEK[])")
        uids = [re.search(rb"UID (\d+)", p[0]).group(1) for p in data if isinstance(p, tuple)]
        self.assertEqual(uids, [b"2", b"4"])


class ExchangeErrorLimit(ServerCase):
    quirks = ["exchange-10-errors"]

    def test_bye_after_ten_errors(self):
        r = self.raw()
        self.assertIn(b"Microsoft Exchange", r.greeting)
        for i in range(9):
            self.assertIn(b"BAD", r.cmd(b"BOGUS"))
        self.assertIn(b" NO ", r.cmd(b"SELECT Nonexistent"))  # the 10th error
        self.assertEqual(r.readline(), b"* BYE Connection closed. 14\r\n")
        with self.assertRaises(EOFError):
            r.readline()
        self.assertEqual([e["event"] for e in self.srv.events].count("bye-error-limit"), 1)


class AuthNotConnected(ServerCase):
    quirks = ["auth-not-connected"]

    def test_wrong_password_accepted_then_nothing_works(self):
        c = imaplib.IMAP4("127.0.0.1", self.srv.port)
        self.assertEqual(c.login("alice", "wrong")[0], "OK")
        typ, data = c.list()
        self.assertEqual(typ, "NO")
        self.assertIn(b"authenticated but not connected", data[0])
        c.logout()
        good = login(self.srv.port)
        self.assertEqual(good.list()[0], "OK")


class ZimbraKeywords(ServerCase):
    quirks = ["refuse-keywords"]

    def test_no_append_failed_with_keywords(self):
        c = login(self.srv.port)
        self.assertIn(b"Zimbra", c.welcome)
        typ, data = c.append("INBOX", "(\\Seen $Label1)", None, b"Subject: a\r\n\r\nb\r\n")
        self.assertEqual((typ, data[0]), ("NO", b"APPEND failed"))
        self.assertEqual(c.append("INBOX", "(\\Seen)", None, b"Subject: a\r\n\r\nb\r\n")[0], "OK")


class YahooCrlf(ServerCase):
    quirks = ["yahoo-crlf"]

    def test_refuses_message_without_final_crlf(self):
        c = login(self.srv.port)
        self.assertIn(b"XYMHIGHESTMODSEQ", c.welcome)
        with self.assertRaisesRegex(imaplib.IMAP4.error, r"BAD.*\[CLIENTBUG\] Additional"):
            c.append("INBOX", None, None, b"Subject: a\r\n\r\nno final line end")
        self.assertEqual(c.append("INBOX", None, None, b"Subject: a\r\n\r\nok\r\n")[0], "OK")


class MaxSize(ServerCase):
    quirks = ["max-size=100"]

    def test_refuses_big_messages(self):
        c = login(self.srv.port)
        typ, data = c.append("INBOX", None, None, b"Subject: a\r\n\r\n" + b"x" * 200 + b"\r\n")
        self.assertEqual(typ, "NO")
        self.assertIn(b"Maximum size of appendable message", data[0])


class ExchangeFlagged(ServerCase):
    quirks = ["append-drops-flagged"]

    def test_append_drops_flagged_and_store_sets_it(self):
        c = login(self.srv.port)
        self.assertIn(b"Microsoft Exchange", c.welcome)
        typ, data = c.append("INBOX", "(\\Seen \\Flagged)", None, b"Subject: a\r\n\r\nb\r\n")
        self.assertEqual(typ, "OK", data)
        uid = data[0].split()[2].rstrip(b"]").decode()  # [APPENDUID validity uid] APPEND completed
        c.select("INBOX")
        flags = c.uid("FETCH", uid, "(FLAGS)")[1][0]
        self.assertIn(b"\\Seen", flags)
        self.assertNotIn(b"\\Flagged", flags)
        self.assertEqual(c.uid("STORE", uid, "+FLAGS.SILENT", "(\\Flagged)")[0], "OK")
        self.assertIn(b"\\Flagged", c.uid("FETCH", uid, "(FLAGS)")[1][0])


class CourierExamine(ServerCase):
    quirks = ["courier-examine"]

    def test_uidvalidity_fixed_only_by_select(self):
        r = self.raw()
        self.assertIn(b"Courier-IMAP", r.greeting)
        v1 = re.search(rb"UIDVALIDITY (\d+)", r.cmd(b"EXAMINE Sent")).group(1)
        v2 = re.search(rb"UIDVALIDITY (\d+)", r.cmd(b"EXAMINE Sent")).group(1)
        self.assertNotEqual(v1, v2)
        v3 = re.search(rb"UIDVALIDITY (\d+)", r.cmd(b"SELECT Sent")).group(1)
        v4 = re.search(rb"UIDVALIDITY (\d+)", r.cmd(b"EXAMINE Sent")).group(1)
        self.assertEqual(v3, v4)


class CreateOverlapCrash(ServerCase):
    quirks = ["create-overlap-crash=400"]

    def test_a_create_meeting_another_ends_its_session(self):
        first, second = self.raw(), self.raw()
        first.n += 1
        first.sock.sendall(b"R%d CREATE Slow\r\n" % first.n)
        time.sleep(0.1)  # the first CREATE is under way
        with self.assertRaises(EOFError):
            second.cmd(b"CREATE Other")
        self.assertIn(b"OK", first.read_until_tag(b"R%d" % first.n))
        self.assertIn(b"OK", self.raw().cmd(b"CREATE Later"))  # one at a time is fine
        self.assertEqual(len([e for e in self.srv.events if e["event"] == "create-overlap-crash"]),
                         1)


class MalformedArguments(ServerCase):
    def test_answered_bad_and_the_session_goes_on(self):
        r = self.raw()
        self.assertIn(b"OK", r.cmd(b"SELECT INBOX").splitlines()[-1])
        for command in (b"SELECT", b"UID FETCH", b"UID FETCH x:y (FLAGS)", b"STATUS INBOX",
                        b"APPEND"):
            out = r.cmd(command)
            self.assertRegex(out, rb"^R\d+ BAD ", command)  # not a dropped connection
        self.assertIn(b"OK", r.cmd(b"NOOP").splitlines()[-1])
        # A list where a handler takes a string (TypeError inside the handler).
        self.assertIn(b"BAD Error in IMAP command LIST: Invalid arguments.", r.cmd(b"LIST (a) *"))
        self.assertIn(b"OK", r.cmd(b"NOOP").splitlines()[-1])


class CommandLine(unittest.TestCase):
    def test_unknown_quirk_is_refused(self):
        with self.assertRaises(ValueError):
            QuirkServer(quirks=["no-such-quirk"])
        with self.assertRaises(ValueError):
            QuirkServer(host="0.0.0.0")
        tool = os.path.join(os.path.dirname(quirk_imap.__file__), "quirk_imap.py")
        res = subprocess.run([sys.executable, tool, "--quirk", "no-such-quirk"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn("unknown quirk 'no-such-quirk'", res.stderr)
        self.assertNotIn("Traceback", res.stderr)

    def test_an_empty_fixture_is_empty(self):
        srv = QuirkServer({})  # not the sample fixture
        self.assertEqual([f["name"] for f in srv.dump()["folders"]], ["INBOX"])
        self.assertEqual(srv.dump()["folders"][0]["messages"], [])

    def test_every_quirk_is_documented(self):
        for name in quirk_imap.QUIRKS:
            self.assertIn(name, quirk_imap.__doc__)


if __name__ == "__main__":
    unittest.main()
