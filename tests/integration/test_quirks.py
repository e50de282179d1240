"""mailferry against servers that break the RFCs (QUIRKS.md): one test per quirk, each a real
migration between tests/tools/quirk_imap.py, imitating the named real server, and a real Dovecot
(tests/servers/dovecot.sh), in the direction where the quirk matters. Each test checks the
outcome: everything copied identical (by SHA-256, flags and internal dates, read back by
mailferry verify --deep and by an independent dump), or the precise per-message outcome
(code, count) where failing alone is the right behaviour.

The fake server never offers STARTTLS, so mailferry runs against it with imap:// and
--allow-plaintext (without that flag it refuses, which test_plaintext_is_refused_without_flag
checks once).
"""

import base64
import datetime as dt
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import unittest

from mftest import MAILFERRY, FaultProxy, ServerTestCase

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from quirk_imap import QuirkServer, imap_date, sample_fixture  # noqa: E402
from imaputil import connect as imap_connect, wire_mailbox  # noqa: E402


class Fake:
    """A QuirkServer seen through mftest's endpoint interface (url, password, ca_file)."""

    def __init__(self, srv, ca_file):
        self.srv = srv
        self.ca_file = ca_file  # unused by imap:// without STARTTLS, but the harness passes one

    def url(self, user="alice", tls=True):
        return "imap://%s@127.0.0.1:%d" % (user, self.srv.port)

    def password(self, user="alice"):
        return self.srv.users.get(user, "alice-pw")

    def dump(self, bodies=False):
        return self.srv.dump(bodies)

    def events(self, kind):
        return [e for e in self.srv.events if e["event"] == kind]


def message(n, *, subject=None, body_lines=3, ending=b"\r\n", size=0, extra=b""):
    head = (b"From: Sender <s@example.test>\r\nTo: Alice <alice@example.test>\r\n"
            b"Subject: %s\r\nMessage-ID: <q%d@quirks.mailferry.test>\r\n%s\r\n" %
            ((subject or "message %d" % n).encode(), n, extra))
    body = b"\r\n".join(b"line %d of message %d" % (i, n) for i in range(body_lines))
    if size:
        body += b"\r\n" + b"x" * max(0, size - len(head) - len(body))
    return head + body + ending


def by_folder(messages_of):
    """{folder: sorted [(sha256, flags, epoch)]} from a fake dump or a dump.py dump."""
    out = {}
    for f in messages_of["folders"]:
        if "messages" not in f:
            continue
        rows = []
        for m in f["messages"]:
            flags = tuple(sorted(x for x in m["flags"] if x.lower() != "\\recent"))
            epoch = m.get("internaldate_epoch")
            if epoch is None:
                epoch = int(dt.datetime.strptime(m["internaldate"], "%d-%b-%Y %H:%M:%S %z")
                            .timestamp())
            rows.append((m["sha256"], flags, epoch))
        out[f["name"]] = sorted(rows)
    return out


class Quirks(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.counter = 0
        cls.dv = cls.start_server("dv", "slash")

    def setUp(self):
        # An empty mailbox for every test: with no session open, Dovecot keeps nothing of a
        # Maildir outside it (indexes, uidlist and subscriptions live inside), so deleting it
        # is a fresh account, much faster than restarting the server. The previous test's
        # sessions may still be closing (writing indexes): wait for them first.
        self.assertTrue(self.dv.wait_until_idle(), "Dovecot sessions of the last test linger")
        shutil.rmtree(self.dv.maildir(), ignore_errors=True)
        type(self).counter += 1
        self.state = os.path.join(self.run_dir, "state-%d.db" % type(self).counter)

    # -- helpers -------------------------------------------------------------------------------

    def fake(self, quirks=(), fixture=None, profile=None, empty=False):
        if empty:
            fixture = {"folders": []}
        srv = QuirkServer(fixture if fixture is not None else sample_fixture(), quirks=quirks,
                          profile=profile).start()
        self.addCleanup(srv.stop)
        return Fake(srv, self.dv.ca_file)

    def migrate(self, src, dst, args=(), expect_exit=0, **kw):
        summary = self.migrate_json(src, dst, self.state,
                                    ["--allow-plaintext", "--retry-backoff", "0.05"] + list(args),
                                    expect_exit=expect_exit, **kw)
        self.assertCountsAddUp(summary)
        self.last_summary = summary
        return summary

    def run_mailferry(self, command, src, dst, args=(), **kw):
        return self.mailferry(command, src, dst, ["--allow-plaintext"] + list(args), **kw)

    def verify_deep(self, src, dst):
        res = self.run_mailferry("verify", src, dst, ["--deep"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("Result: identical", res.stdout)

    def dovecot(self, bodies=True):
        return self.dump(self.dv, bodies=bodies)

    def seed_dovecot(self, folders):
        """folders: {name: [(bytes, flags)]}, appended in order through imaplib."""
        conn = imap_connect("127.0.0.1", self.dv.info["imaps_port"], "alice",
                            self.dv.password(), "ssl", self.dv.ca_file)
        try:
            for name, msgs in folders.items():
                if name != "INBOX":
                    conn.create(wire_mailbox(name))
                    conn.subscribe(wire_mailbox(name))
                for i, (raw, flags) in enumerate(msgs):
                    when = dt.datetime(2021, 3, 1 + i % 28, 8, i % 60, tzinfo=dt.timezone.utc)
                    typ, data = conn.append(wire_mailbox(name), "(%s)" % " ".join(flags),
                                            '"%s"' % imap_date(when), raw)
                    self.assertEqual(typ, "OK", data)
        finally:
            conn.logout()

    def diagnosis(self):
        """What a failed comparison needs to be explained later (a folder missing from LIST
        has been seen twice under load, never reproduced): where the last run put each
        folder, and what the Dovecot Maildir holds on disk."""
        summary = getattr(self, "last_summary", None) or {"folders": []}
        mapping = [(f["source"], f["destination"], f["copied"], f["notes"])
                   for f in summary["folders"]]
        tree = []
        for root, dirs, files in os.walk(self.dv.maildir()):
            rel = os.path.relpath(root, self.dv.maildir())
            tree.append("%s/ %d files: %s" % (rel, len(files),
                                               " ".join(sorted(f for f in files
                                                               if f.startswith("dovecot")))))
        return "last run: %s\nMaildir on disk:\n%s" % (mapping, "\n".join(sorted(tree)))

    def folder_stats(self, summary, name):
        return next(f for f in summary["folders"] if f["source"] == name)

    def assertSameMail(self, expected, actual, folders=None):
        """Same messages (bytes, flags, instant) per folder; `folders` limits the check."""
        exp, act = by_folder(expected), by_folder(actual)
        for name in folders or exp:
            if not exp.get(name) and name not in act:
                continue
            self.assertIn(name, act, "folder %r missing; have %s\n%s" % (name, sorted(act),
                                                                        self.diagnosis()))
            self.assertEqual(exp[name], act[name], "folder %r differs" % name)

    # -- the plain fake, as a baseline and a harness check --------------------------------------

    def test_plaintext_is_refused_without_flag(self):
        src = self.fake()
        res = self.mailferry("migrate", src, self.dv, ["--state", self.state])
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        self.assertIn("--allow-plaintext", res.stderr)

    def test_baseline_fake_source_copies_identically(self):
        src = self.fake()
        summary = self.migrate(src, self.dv)
        self.assertEqual(summary["copied"], 14)
        self.assertSameMail(src.dump(), self.dovecot())

    # -- one test per quirk -----------------------------------------------------------------------

    def test_no_uidplus_destination(self):
        """Exchange <= 2010: no UIDPLUS, no APPENDUID. Copies are recorded without their
        destination UID; a re-run copies nothing."""
        self.seed(self.dv, "simple")
        dst = self.fake(["no-uidplus"], empty=True)
        summary = self.migrate(self.dv, dst)
        self.assertEqual((summary["copied"], summary["failed"]), (10, 0))
        self.assertSameMail(self.dovecot(), dst.dump())
        again = self.migrate(self.dv, dst)
        self.assertEqual(again["copied"], 0)

    def test_nil_delimiter_source(self):
        """A flat server (NIL delimiter) whose names hold "/": taken as the hierarchy (SPEC 4)."""
        src = self.fake(["nil-delimiter"])
        summary = self.migrate(src, self.dv)
        self.assertEqual((summary["copied"], summary["folders_failed"]), (14, 0))
        names = {f["name"] for f in self.dovecot(False)["folders"]}
        self.assertIn("Work/Projects", names)
        self.assertSameMail(src.dump(), self.dovecot())
        self.verify_deep(src, self.dv)

    def test_nil_delimiter_destination(self):
        """Into a flat server, nested folders keep their "/" names (read back as nested)."""
        self.seed(self.dv, "simple")
        dst = self.fake(["nil-delimiter"], empty=True)
        summary = self.migrate(self.dv, dst)
        self.assertEqual((summary["copied"], summary["folders_failed"]), (10, 0))
        self.assertIn("Lists/Announcements", {f["name"] for f in dst.dump()["folders"]})
        self.assertSameMail(self.dovecot(), dst.dump())
        self.verify_deep(self.dv, dst)

    def test_list_unquoted_names_with_spaces(self):
        src = self.fake(["list-unquoted"])
        summary = self.migrate(src, self.dv)
        self.assertEqual((summary["copied"], summary["folders_failed"]), (14, 0))
        self.assertIn("My Folder", {f["name"] for f in self.dovecot(False)["folders"]})
        self.assertSameMail(src.dump(), self.dovecot())
        self.verify_deep(src, self.dv)

    def test_list_names_as_literals(self):
        src = self.fake(["list-literal"])
        summary = self.migrate(src, self.dv)
        self.assertEqual((summary["copied"], summary["folders_failed"]), (14, 0))
        self.assertSameMail(src.dump(), self.dovecot())

    def test_inbox_in_odd_case_both_ways(self):
        src = self.fake(["inbox-case=Inbox"])
        summary = self.migrate(src, self.dv)
        self.assertEqual(summary["copied"], 14)
        inbox = self.folder_stats(summary, "INBOX")
        self.assertEqual((inbox["destination"], inbox["copied"]), ("INBOX", 6))
        names = {f["name"] for f in self.dovecot(False)["folders"]}
        self.assertNotIn("Inbox", names)
        self.assertSameMail(src.dump(), self.dovecot())
        # And into a server that lists "inbox": the INBOX messages land in its INBOX.
        dst = self.fake(["inbox-case=inbox"], empty=True)
        self.state += "-2"
        summary = self.migrate(self.dv, dst)
        self.assertEqual(summary["copied"], 14)
        self.assertEqual(len({f["name"] for f in dst.dump()["folders"]} & {"inbox", "Inbox"}), 0)
        self.assertSameMail(self.dovecot(), dst.dump())

    def test_fetch_attributes_in_any_order(self):
        """Body literal before the UID: the sequence number -> UID map from the listing says
        which message it is; the UID that follows is checked against it."""
        src = self.fake(["fetch-order"])
        summary = self.migrate(src, self.dv)
        self.assertEqual((summary["copied"], summary["failed"]), (14, 0))
        self.assertSameMail(src.dump(), self.dovecot())
        self.verify_deep(src, self.dv)

    def test_unsolicited_fetch_exists_expunge_mid_fetch(self):
        """Another session changes flags, delivers and expunges while we fetch (RFC 3501
        7.4.1 allows EXPUNGE during UID FETCH): the expunged message is skipped as vanished,
        the rest copied, and the new one copied by the next run."""
        src = self.fake(["unsolicited"])
        summary = self.migrate(src, self.dv)
        inbox = self.folder_stats(summary, "INBOX")
        self.assertEqual((inbox["copied"], inbox["skipped_vanished"], inbox["failed"]), (5, 1, 0))
        event = src.events("unsolicited")[0]
        self.assertEqual(event["expunged_uid"], 2)
        again = self.migrate(src, self.dv)
        self.assertEqual(self.folder_stats(again, "INBOX")["copied"], 1)  # the late arrival
        self.assertSameMail(src.dump(), self.dovecot())
        self.verify_deep(src, self.dv)

    def test_fetch_order_with_expunge_mid_fetch(self):
        """Both at once: after the EXPUNGE every later sequence number moved down by one, so
        the sequence -> UID map must follow it or bodies land under the wrong UID."""
        src = self.fake(["fetch-order", "unsolicited"])
        summary = self.migrate(src, self.dv)
        inbox = self.folder_stats(summary, "INBOX")
        self.assertEqual((inbox["copied"], inbox["skipped_vanished"], inbox["failed"]), (5, 1, 0))
        self.assertEqual(summary["folders_failed"], 0)
        self.migrate(src, self.dv)
        self.assertSameMail(src.dump(), self.dovecot())
        self.verify_deep(src, self.dv)

    def test_rfc822_size_differs_from_the_real_size(self):
        """The literal's size is what counts; the copies have the real bytes."""
        for delta in ("+100", "-40"):
            with self.subTest(delta=delta):
                self.setUp()
                src = self.fake(["wrong-rfc822-size=" + delta])
                summary = self.migrate(src, self.dv)
                self.assertEqual((summary["copied"], summary["failed"]), (14, 0))
                self.assertEqual(summary["bytes"],
                                 sum(m["size"] for f in src.dump()["folders"]
                                     for m in f["messages"]))
                self.assertSameMail(src.dump(), self.dovecot())
        # verify compares by content: the sizes the server claims do not matter.
        self.verify_deep(src, self.dv)

    def test_crash_recovery_does_not_take_the_claimed_size_for_identity(self):
        """A source whose RFC822.SIZE is wrong (QUIRKS.md: never use size as identity): the
        intents record the size it claims, the destination reports the real one of the copy.
        Killed right after the k-th state write (appends of the batch before may have landed),
        then run again: recovery must still recognise what landed, or it copies it twice."""
        for delta in ("+100", "-40"):
            with self.subTest(delta=delta):
                self.setUp()
                src = self.fake(["wrong-rfc822-size=" + delta])
                env = dict(os.environ, MAILFERRY_FROM_PASSWORD=src.password(),
                           MAILFERRY_TO_PASSWORD=self.dv.password())
                argv = [MAILFERRY, "migrate", "--from", src.url(), "--to", self.dv.url(),
                        "--to-ca-file", self.dv.ca_file, "--allow-plaintext",
                        "--state", self.state, "--progress", "none", "--batch-messages", "2"]
                killed = 0
                for k in (2, 3, 4, 6):
                    res = subprocess.run(
                        argv, env=dict(env, MAILFERRY_CRASH_AFTER_STATE_WRITES=str(k)),
                        capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
                    killed += res.returncode == -signal.SIGKILL
                self.assertGreaterEqual(killed, 3)
                summary = self.migrate(src, self.dv)
                self.assertEqual(summary["failed"], 0, summary)
                self.assertSameMail(src.dump(), self.dovecot())

    def test_bare_lf_bodies_are_copied_byte_for_byte(self):
        """mailferry copies bytes exactly: LF-only bodies arrive LF-only in a server that
        stores what it is given. (Dovecot itself stores LF and serves CRLF, see below.)"""
        src = self.fake(["bare-lf"])
        dst = self.fake(empty=True)
        summary = self.migrate(src, dst)
        self.assertEqual((summary["copied"], summary["failed"]), (14, 0))
        self.assertSameMail(src.dump(), dst.dump())
        for f in dst.dump(bodies=True)["folders"]:
            for m in f["messages"]:
                self.assertNotIn(b"\r", base64.b64decode(m["body_b64"]))
        # Into Dovecot: accepted; Dovecot serves every message with CRLF line ends, so the
        # copy equals the source with LF -> CRLF, a change the destination makes, not us.
        self.state += "-dv"
        self.assertEqual(self.migrate(src, self.dv)["copied"], 14)
        want = {}
        for f in src.dump(bodies=True)["folders"]:
            want[f["name"]] = sorted(hashlib.sha256(base64.b64decode(m["body_b64"])
                                                    .replace(b"\n", b"\r\n")).hexdigest()
                                     for m in f["messages"])
        got = {f["name"]: sorted(m["sha256"] for m in f.get("messages", []))
               for f in self.dovecot()["folders"]}
        for name, digests in want.items():
            self.assertEqual(got.get(name), digests, name)

    def test_8bit_mailbox_names_both_ways(self):
        src = self.fake(["8bit-names"])
        summary = self.migrate(src, self.dv)
        self.assertEqual((summary["copied"], summary["folders_failed"]), (14, 0))
        names = {f["name"] for f in self.dovecot(False)["folders"]}
        self.assertIn("Entwürfe", names)  # decoded by dump.py from Dovecot's modified UTF-7
        self.assertSameMail(src.dump(), self.dovecot())
        self.verify_deep(src, self.dv)
        dst = self.fake(["8bit-names"], empty=True)
        self.state += "-2"
        summary = self.migrate(self.dv, dst)
        self.assertEqual(summary["folders_failed"], 0)
        self.assertIn("Entwürfe", {f["name"] for f in dst.dump()["folders"]})
        self.assertSameMail(self.dovecot(), dst.dump())

    def test_bad_for_id_enable_namespace(self):
        """ID, ENABLE and NAMESPACE announced but answered BAD: each is optional."""
        src = self.fake(["bad-id", "bad-enable", "bad-namespace"])
        summary = self.migrate(src, self.dv)
        self.assertEqual((summary["copied"], summary["folders_failed"]), (14, 0))
        self.assertSameMail(src.dump(), self.dovecot())
        bad = {c[1] for c in src.srv.commands if c[2] == "BAD"}
        self.assertIn("NAMESPACE", bad)
        self.assertTrue(bad <= {"ID", "ENABLE", "NAMESPACE"}, bad)

    def test_id_only_when_announced(self):
        src = self.fake()
        self.migrate(src, self.dv)
        self.assertTrue(src.events("id"), "ID is announced: mailferry should identify itself")
        courier = self.fake(profile="courier")  # announces no ID
        self.state += "-2"
        self.migrate(courier, self.dv)
        self.assertFalse([c for c in courier.srv.commands if c[1] == "ID"])

    def test_preauth_greeting(self):
        src = self.fake(["preauth"])
        summary = self.migrate(src, self.dv)
        self.assertEqual(summary["copied"], 14)
        self.assertFalse(src.events("login"))
        self.assertSameMail(src.dump(), self.dovecot())

    def test_very_long_response_lines(self):
        """FLAGS and PERMANENTFLAGS lines of 600 KB (keywords accumulated over years)."""
        src = self.fake(["long-lines=600000"])
        summary = self.migrate(src, self.dv)
        self.assertEqual((summary["copied"], summary["folders_failed"]), (14, 0))
        self.assertSameMail(src.dump(), self.dovecot())
        dst = self.fake(["long-lines=600000"], empty=True)
        self.state += "-2"
        self.assertEqual(self.migrate(self.dv, dst)["copied"], 14)
        self.assertSameMail(self.dovecot(), dst.dump())

    def test_noselect_parents_both_ways(self):
        src = self.fake(["noselect-parents"])
        summary = self.migrate(src, self.dv)
        self.assertEqual((summary["copied"], summary["folders_failed"]), (14, 0))
        self.assertSameMail(src.dump(), self.dovecot())
        dst = self.fake(["noselect-parents"], empty=True)
        self.state += "-2"
        self.seed(self.dv, "add", extra=["--count", "2"])
        summary = self.migrate(self.dv, dst)
        self.assertEqual(summary["folders_failed"], 0)
        self.assertSameMail(self.dovecot(), dst.dump())

    def test_creates_one_at_a_time_dovecot_23(self):
        """Dovecot 2.3 panics when sessions of one user CREATE at the same moment (EDEADLK on
        its list index; seen with 2.3.19 here): parallel workers create their folders one at a
        time. The destination is far (a 5 ms link), so every folder gets a worker."""
        folders = {"Folder %d" % i: [(message(i, subject="in folder %d" % i), ["\\Seen"])]
                   for i in range(1, 7)}
        self.seed_dovecot(folders)
        dst = self.fake(["create-overlap-crash=300"], empty=True)
        link = FaultProxy(self.run_dir, "create-overlap", dst.srv.port, ["--rtt-ms", "5"])
        self.addCleanup(link.stop)

        class Far(Fake):
            def url(self, user="alice", tls=True):
                return "imap://%s@127.0.0.1:%d" % (user, link.port)

        summary = self.migrate(self.dv, Far(dst.srv, dst.ca_file), ["--parallel", "4"])
        self.assertEqual((summary["copied"], summary["failed"], summary["folders_failed"]),
                         (6, 0, 0), summary)
        self.assertEqual(dst.events("create-overlap-crash"), [])
        self.assertGreater(len({e["session"] for e in dst.events("create")}), 1,
                           "the folders were not created by several workers")
        self.assertSameMail(self.dovecot(), dst.dump())

    def test_phantom_uid_icloud(self):
        """iCloud lists a UID that FETCH never delivers: recorded as vanished, asked once."""
        src = self.fake(["phantom-uid=2"])
        summary = self.migrate(src, self.dv)
        inbox = self.folder_stats(summary, "INBOX")
        self.assertEqual((inbox["copied"], inbox["skipped_vanished"], inbox["failed"]), (5, 1, 0))
        self.assertEqual(summary["failed"], 0)
        self.assertEqual(len(src.events("phantom-not-delivered")), 1)
        again = self.migrate(src, self.dv)
        self.assertEqual(again["copied"], 0)
        self.assertEqual(len(src.events("phantom-not-delivered")), 1, "asked again")
        expected = src.dump()
        for f in expected["folders"]:
            if f["name"] == "INBOX":
                f["messages"] = [m for m in f["messages"] if m["uid"] != 2]
        self.assertSameMail(expected, self.dovecot())

    def test_exchange_closes_the_session_after_10_errors(self):
        """Exchange: BYE after 10 failed commands. 14 messages the destination refuses (each
        fails alone, too_big) and 6 it takes: mailferry reconnects before the 10th error, so
        the server never has to close the session."""
        big = [(message(i, size=3000), ["\\Seen"]) for i in range(14)]
        small = [(message(100 + i), []) for i in range(6)]
        mixed = [m for pair in zip(big[:6], small) for m in pair] + big[6:]
        self.seed_dovecot({"INBOX": mixed})
        dst = self.fake(["exchange-10-errors", "max-size=2000"], empty=True)
        summary = self.migrate(self.dv, dst, expect_exit=1)
        inbox = self.folder_stats(summary, "INBOX")
        self.assertEqual((inbox["copied"], inbox["failed"]), (6, 14))
        self.assertEqual({f["code"] for f in inbox["failures"]}, {"too_big"})
        self.assertEqual(dst.events("bye-error-limit"), [])
        self.assertGreater(len(dst.events("login")), 1, "expected a proactive reconnect")
        self.assertEqual(len(dst.events("refused-too-big")), 14)
        kept = sorted(hashlib.sha256(raw).hexdigest() for raw, _ in small)
        self.assertEqual(sorted(m["sha256"] for m in dst.dump()["folders"][0]["messages"]), kept)

    def test_exchange_flagged_is_set_after_append(self):
        """Exchange keeps \\Flagged given in APPEND for IMAP only (Outlook loses it; the fake
        drops it): every copy goes in without it, then UID STORE +FLAGS.SILENT (\\Flagged)
        sets it on exactly the flagged copies, before the state records them."""
        self.seed_dovecot({"INBOX": [(message(1), ["\\Seen", "\\Flagged"]),
                                     (message(2), []),
                                     (message(3), ["\\Flagged", "$Label1"]),
                                     (message(4), ["\\Seen"]),
                                     (message(5), ["\\Flagged"]),
                                     (message(6), ["\\Answered"])]})
        dst = self.fake(["append-drops-flagged"], empty=True)
        summary = self.migrate(self.dv, dst)
        self.assertEqual(self.folder_stats(summary, "INBOX")["copied"], 6)
        self.assertSameMail(self.dovecot(), dst.dump(bodies=True))
        self.assertEqual(dst.events("append-dropped-flagged"), [])
        stores = dst.events("store")
        self.assertTrue(stores, "expected UID STORE +FLAGS.SILENT (\\Flagged)")
        self.assertTrue(all(e["action"] == "+FLAGS.SILENT" and e["flags"] == ["\\Flagged"]
                            for e in stores), stores)
        self.verify_deep(self.dv, dst)

    def test_exchange_flag_owed_when_the_connection_drops_is_set_on_resume(self):
        """The connection drops right after the APPENDs, before the UID STORE that flags
        them: the resumed folder finds the copies (crash recovery) and adds the \\Flagged they
        lack before it records them as copied. Nothing is copied twice."""
        self.seed_dovecot({"INBOX": [(message(1), ["\\Seen", "\\Flagged"]),
                                     (message(2), []),
                                     (message(3), ["\\Flagged", "$Label1"]),
                                     (message(4), ["\\Answered", "\\Flagged"])]})
        dst = self.fake(["append-drops-flagged", "drop-on-store"], empty=True)
        summary = self.migrate(self.dv, dst)
        self.assertEqual(len(dst.events("dropped-on-store")), 1)
        self.assertSameMail(self.dovecot(), dst.dump(bodies=True))
        notes = self.folder_stats(summary, "INBOX")["notes"]
        self.assertTrue(any("3 of them got flags set after the APPEND only now" in n
                            for n in notes), notes)
        self.verify_deep(self.dv, dst)

    def test_exchange_login_ok_then_not_connected(self):
        """Exchange accepts a wrong password, then refuses every command: a login failure
        (exit 3) that says so, not a network error retried forever."""
        src = self.fake(["auth-not-connected"])
        res = self.run_mailferry("migrate", src, self.dv, ["--state", self.state, "--retries",
                                                          "1"],
                                 passwords={"from": "wrong-password"})
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        self.assertIn("authenticated but not connected", res.stderr)
        self.assertEqual(len(src.events("login-not-connected")), 1)
        self.assertEqual(self.migrate(src, self.dv)["copied"], 14)

    def test_zimbra_refuses_keywords_on_append(self):
        """Zimbra: "NO APPEND failed" for a message with keywords. Those messages are copied
        again without their keywords, and the report says so."""
        self.seed_dovecot({"INBOX": [(message(1), ["\\Seen", "$Label1"]),
                                     (message(2), ["\\Flagged"]),
                                     (message(3), ["Work", "\\Answered"]),
                                     (message(4), [])]})
        dst = self.fake(["refuse-keywords"], empty=True)
        summary = self.migrate(self.dv, dst)
        inbox = self.folder_stats(summary, "INBOX")
        self.assertEqual((inbox["copied"], inbox["failed"]), (4, 0))
        self.assertTrue(any("without their keywords" in n for n in inbox["notes"]), inbox)
        got = sorted(tuple(sorted(m["flags"])) for m in dst.dump()["folders"][0]["messages"])
        self.assertEqual(got, sorted([("\\Seen",), ("\\Flagged",), ("\\Answered",), ()]))
        self.assertGreaterEqual(len(dst.events("refused-keywords")), 2)

    def test_yahoo_refuses_messages_without_final_crlf(self):
        """Yahoo answers BAD [CLIENTBUG] to a message that does not end in CRLF. For Yahoo
        only, mailferry ends such a message with CRLF (imapsync's FAQ.Yahoo recipe) and warns;
        every other message, and every other server, gets the bytes unchanged."""
        no_crlf = message(1, ending=b"")
        good = message(2)
        self.seed_dovecot({"INBOX": [(no_crlf, []), (good, ["\\Seen"])]})
        dst = self.fake(["yahoo-crlf"], empty=True)
        res = self.run_mailferry("migrate", self.dv, dst, ["--state", self.state, "--json"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("CRLF", res.stderr)
        bodies = sorted(base64.b64decode(m["body_b64"])
                        for m in dst.dump(bodies=True)["folders"][0]["messages"])
        self.assertEqual(bodies, sorted([no_crlf + b"\r\n", good]))
        self.assertEqual(dst.events("refused-no-final-crlf"), [])
        # A plain server gets the message exactly as it is.
        plain = self.fake(empty=True)
        self.state += "-2"
        self.migrate(self.dv, plain)
        self.assertIn(hashlib.sha256(no_crlf).hexdigest(),
                      [m["sha256"] for m in plain.dump()["folders"][0]["messages"]])

    def test_yahoo_message_ending_in_bare_lf(self):
        """A body whose last line ends in a bare LF gets a CR before it (one byte more)."""
        fixture = {"folders": [{"name": "INBOX", "messages": [
            {"body": "Subject: lf\n\nlast line\n"}, {"body": "Subject: none\r\n\r\nno end"}]}]}
        src = self.fake(fixture=fixture)
        dst = self.fake(["yahoo-crlf"], empty=True)
        summary = self.migrate(src, dst)
        self.assertEqual(summary["copied"], 2)
        bodies = sorted(base64.b64decode(m["body_b64"])
                        for m in dst.dump(bodies=True)["folders"][0]["messages"])
        self.assertEqual(bodies, sorted([b"Subject: lf\n\nlast line\r\n",
                                         b"Subject: none\r\n\r\nno end\r\n"]))

    def test_flags_no_client_can_set_are_left_out(self):
        """A source that shows backslash flags outside RFC 3501's five (\\X-EON-HAS-ATTACHMENT,
        \\Indexed: QUIRKS.md, imapsync FAQ.Flags): no client can set them, and Dovecot answers
        an APPEND carrying one "BAD Invalid system flag". The messages are copied without them
        (every other flag and keyword kept), the report names them, and verify does not count
        them as differences."""
        fixture = {"folders": [{"name": "INBOX", "messages": [
            {"flags": ["\\Seen", "\\X-EON-HAS-ATTACHMENT"], "body": message(1).decode()},
            {"flags": ["\\Indexed", "$Label1"], "body": message(2).decode()},
            {"flags": ["\\Flagged", "\\Answered"], "body": message(3).decode()}]}]}
        src = self.fake(fixture=fixture)
        summary = self.migrate(src, self.dv)
        inbox = self.folder_stats(summary, "INBOX")
        self.assertEqual((inbox["copied"], inbox["failed"]), (3, 0), inbox)
        got = sorted(tuple(sorted(m["flags"])) for m in self.dovecot()["folders"][0]["messages"])
        self.assertEqual(got, sorted([("\\Seen",), ("$Label1",), ("\\Answered", "\\Flagged")]))
        self.verify_deep(src, self.dv)
        notes = " ".join(inbox["notes"])
        self.assertIn("\\X-EON-HAS-ATTACHMENT", notes)
        self.assertIn("\\Indexed", notes)

    def test_courier_reads_with_select_not_examine(self):
        """Courier does not fix UIDVALIDITY on EXAMINE; reading with SELECT (read-only
        discipline) keeps it stable, so a re-run is a no-op, and the source is unchanged."""
        src = self.fake(["courier-examine"])
        before = src.dump()
        summary = self.migrate(src, self.dv)
        self.assertEqual(summary["copied"], 14)
        again = self.migrate(src, self.dv)
        self.assertEqual(again["copied"], 0)
        notes = [n for f in again["folders"] for n in f["notes"]]
        self.assertFalse([n for n in notes if "UIDVALIDITY" in n], notes)
        self.assertFalse(src.events("examine"))
        self.assertFalse([c for c in src.srv.commands if c[1] in ("STORE", "UID STORE",
                                                                  "EXPUNGE", "CLOSE")])
        self.assertEqual(by_folder(before), by_folder(src.dump()))
        self.assertSameMail(src.dump(), self.dovecot())


if __name__ == "__main__":
    unittest.main()
