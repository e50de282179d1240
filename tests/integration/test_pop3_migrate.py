"""mailferry migrate and verify with a POP3 source, against real Dovecot servers: the acceptance
tests of the POP3 issue.

Dovecot POP3 on plain+STLS (pop3://) and on implicit TLS (pop3s://): migrate to IMAP, verify,
re-run copies 0, add 5 messages and re-run copies 5; the POP3 mailbox is unchanged afterwards
(STAT, UIDL and LIST sizes by Python's poplib, flags by tests/corpus/dump.py over IMAP, and
Dovecot's own log: no message was ever deleted in a POP3 session). Messages land in
--pop3-folder NAME, or in the destination's INBOX without it. The POP3 source's notices (a
message without any date gets "now") reach the user, on stderr and as JSON.
"""

import imaplib
import json
import os
import poplib
import re
import ssl
import subprocess
import time

from mftest import MAILFERRY, ServerTestCase


class Pop3Migrate(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.start_server("pop3src", "slash", pop3=True)
        cls.dst = cls.start_server("imapdst", "slash")

    # -- helpers ----------------------------------------------------------------------------

    def pop3_url(self, user="alice", tls=True):
        if tls:
            return "pop3s://%s@127.0.0.1:%d" % (user, self.src.info["pop3s_port"])
        return "pop3://%s@127.0.0.1:%d" % (user, self.src.info["pop3_port"])

    def run_mf(self, command, src_url, dst_user, args=(), src_user="alice"):
        env = dict(os.environ, MAILFERRY_FROM_PASSWORD=self.src.password(src_user),
                   MAILFERRY_TO_PASSWORD=self.dst.password(dst_user))
        argv = [MAILFERRY, command, "--from", src_url, "--to", self.dst.url(dst_user),
                "--from-ca-file", self.src.ca_file, "--to-ca-file", self.dst.ca_file] + list(args)
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)

    def migrate(self, src_url, dst_user, state, args=(), src_user="alice"):
        res = self.run_mf("migrate", src_url, dst_user, ["--state", state, "--json"] + list(args),
                          src_user=src_user)
        self.assertEqual(res.returncode, 0, "stdout:%s\nstderr:%s" % (res.stdout[-3000:],
                                                                      res.stderr[-3000:]))
        events = [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]
        summary = [e for e in events if e.get("event") == "summary"]
        self.assertEqual(len(summary), 1, res.stdout)
        self.assertCountsAddUp(summary[0])
        return summary[0], events, res

    def verify(self, src_url, dst_user, args=()):
        res = self.run_mf("verify", src_url, dst_user, ["--deep"] + list(args))
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("Result: identical", res.stdout)
        return res

    def pop3_snapshot(self, user="alice"):
        ctx = ssl.create_default_context(cafile=self.src.ca_file)
        p = poplib.POP3_SSL("127.0.0.1", self.src.info["pop3s_port"], context=ctx, timeout=30)
        try:
            p.user(user)
            p.pass_(self.src.password(user))
            return {"stat": p.stat(), "uidl": p.uidl()[1], "list": p.list()[1]}
        finally:
            p.quit()

    def inbox_messages(self, server, user, folder="INBOX"):
        dump = self.dump(server, user, bodies=True)
        for f in dump["folders"]:
            if f["name"] == folder:
                return f["messages"]
        return None

    def pop3_sessions(self):
        log = os.path.join(self.run_dir, "dovecot-pop3src", "dovecot.log")
        with open(log, encoding="utf-8", errors="replace") as f:
            return [l for l in f if re.search(r"\bpop3\(", l) and "Disconnected" in l]

    def assertSourceUnchanged(self, pop_before, imap_before, user="alice"):
        self.assertEqual(self.pop3_snapshot(user), pop_before)
        # Flags over IMAP too: Dovecot marks RETR'd mail \Seen unless pop3_no_flag_updates.
        self.assertEqual(self.dump(self.src, user), imap_before)

    def assertSameMessages(self, dst_user, folder, src_user="alice"):
        src = sorted(m["sha256"] for m in self.inbox_messages(self.src, src_user))
        dst = sorted(m["sha256"] for m in self.inbox_messages(self.dst, dst_user, folder))
        self.assertEqual(dst, src)

    # -- tests --------------------------------------------------------------------------------

    def run_scenario(self, src_url, dst_user, folder, seed, extra=(), verify_extra=()):
        """Seeds 10, migrates, verifies, re-runs (0), adds 5, re-runs (5); returns nothing.
        `extra`: more migrate options, `verify_extra` more verify options."""
        state = os.path.join(self.run_dir, "state-%s-%s.db" % (dst_user, folder))
        folder_args = ["--pop3-folder", folder] if folder != "INBOX" else []
        migrate_args = folder_args + list(extra)
        sessions_before = len(self.pop3_sessions())
        self.seed(self.src, "add", extra=["--count", "10", "--seed", str(seed)])
        pop_before = self.pop3_snapshot()
        imap_before = self.dump(self.src)
        total = pop_before["stat"][0]

        summary, events, _ = self.migrate(src_url, dst_user, state, migrate_args)
        self.assertEqual([(f["source"], f["destination"]) for f in summary["folders"]],
                         [("INBOX", folder)])
        self.assertEqual(summary["copied"], total)
        self.assertEqual(summary["failed"], 0)
        self.assertEqual(summary["excluded"], [])
        self.verify(src_url, dst_user, folder_args + list(verify_extra))
        self.assertSameMessages(dst_user, folder)

        summary, _, _ = self.migrate(src_url, dst_user, state, migrate_args)
        self.assertEqual(summary["copied"], 0)
        self.assertEqual(summary["failed"], 0)
        self.assertSourceUnchanged(pop_before, imap_before)

        self.seed(self.src, "add", extra=["--count", "5", "--seed", str(seed + 1)])
        pop_before = self.pop3_snapshot()
        imap_before = self.dump(self.src)
        summary, _, _ = self.migrate(src_url, dst_user, state, migrate_args)
        self.assertEqual(summary["copied"], 5)
        self.assertEqual(summary["failed"], 0)
        self.assertEqual(self.migrate(src_url, dst_user, state, migrate_args)[0]["copied"], 0)
        self.verify(src_url, dst_user, folder_args)
        self.assertSameMessages(dst_user, folder)
        if folder_args:
            # Without --pop3-folder, verify learns from the state file where the mail went.
            res = self.verify(src_url, dst_user, ["--state", state])
            self.assertRegex(res.stdout, r"INBOX +%s .* identical" % re.escape(folder))
            self.assertIn("note: compared with '%s', where earlier migrate runs copied this "
                          "folder" % folder, res.stdout)
        self.assertSourceUnchanged(pop_before, imap_before)
        # Dovecot's own account of every POP3 session mailferry opened: nothing deleted.
        sessions = self.pop3_sessions()[sessions_before:]
        self.assertGreaterEqual(len(sessions), 6, sessions)
        for line in sessions:
            self.assertRegex(line, r"del=0/\d+", line)

    def test_stls_to_a_named_folder(self):
        self.run_scenario(self.pop3_url(tls=False), "alice", "FromPop3", seed=11)
        # Only the named folder was written: the destination INBOX stays empty.
        self.assertEqual(self.inbox_messages(self.dst, "alice"), [])

    def test_implicit_tls_to_the_inbox(self):
        self.run_scenario(self.pop3_url(tls=True), "bob", "INBOX", seed=21)

    def test_a_maildrop_listed_in_windows(self):
        # --listing-window 4: every run lists the maildrop (25 messages and more by now) four
        # messages at a time, reading the headers (TOP) of one window at a time; so does
        # verify --deep, which reads the bodies a window at a time too.
        self.run_scenario(self.pop3_url(tls=True), "alice", "Windows", seed=41,
                          extra=["--listing-window", "4"], verify_extra=["--listing-window", "4"])

    def test_verify_finds_a_missing_message(self):
        # verify reads the POP3 source on its own: a message deleted at the destination is
        # reported missing (so verify can fail), and the exit code says so.
        state = os.path.join(self.run_dir, "state-carol-verify.db")
        self.seed(self.src, "add", extra=["--count", "3", "--seed", "31"], user="carol")
        self.migrate(self.pop3_url("carol"), "carol", state, src_user="carol")
        ctx = ssl.create_default_context(cafile=self.dst.ca_file)
        c = imaplib.IMAP4_SSL("127.0.0.1", self.dst.info["imaps_port"], ssl_context=ctx)
        c.login("carol", self.dst.password("carol"))
        c.select("INBOX")
        c.store("1", "+FLAGS", "\\Deleted")
        c.expunge()
        c.logout()
        res = self.run_mf("verify", self.pop3_url("carol"), "carol", ["--json"], src_user="carol")
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        report = json.loads(res.stdout)
        self.assertFalse(report["identical"])
        self.assertEqual(report["folders"][0]["source_messages"], 3)
        self.assertEqual(report["folders"][0]["destination_messages"], 2)
        self.assertEqual(len(report["folders"][0]["missing"]), 1)

    def test_notices_of_the_pop3_source_reach_the_user(self):
        # A message without Received or Date gets "now" as its internal date: said on stderr,
        # as a JSON notice event, and in the summary.
        ctx = ssl.create_default_context(cafile=self.src.ca_file)
        c = imaplib.IMAP4_SSL("127.0.0.1", self.src.info["imaps_port"], ssl_context=ctx)
        c.login("dave", self.src.password("dave"))
        raw = b"From: x@example.test\r\nSubject: no date\r\nMessage-ID: <nodate@t>\r\n\r\nbody\r\n"
        typ, data = c.append("INBOX", None, None, raw)
        self.assertEqual(typ, "OK", data)
        c.logout()
        state = os.path.join(self.run_dir, "state-dave.db")
        summary, events, res = self.migrate(self.pop3_url("dave"), "dave", state, src_user="dave")
        self.assertEqual(summary["copied"], 1)
        notices = [e for e in events if e.get("event") == "notice"]
        self.assertTrue(any("internal date is set to now" in n["text"] for n in notices), events)
        self.assertTrue(any("internal date is set to now" in n for n in summary["notices"]),
                        summary["notices"])
        self.assertIn("internal date is set to now", res.stderr)
        # verify lists the source again, a second later: its "now" is not the copy's, and
        # such a date is counted apart, not reported as a difference.
        time.sleep(1.1)
        res = self.run_mf("verify", self.pop3_url("dave"), "dave", ["--deep", "--json"],
                          src_user="dave")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        report = json.loads(res.stdout.splitlines()[-1])
        self.assertTrue(report["identical"], report)
        self.assertEqual(report["folders"][0]["source_undated"], 1, report)
        self.assertEqual(report["folders"][0]["date_differences"], [], report)
        res = self.run_mf("verify", self.pop3_url("dave"), "dave", ["--deep"], src_user="dave")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("1 message(s) have no date on the source", res.stdout)
        self.assertIn("Result: identical", res.stdout)

    def test_usage_errors(self):
        # --pop3-folder with an IMAP source is refused with what to write instead.
        env = dict(os.environ, MAILFERRY_FROM_PASSWORD="x", MAILFERRY_TO_PASSWORD="y")
        res = subprocess.run([MAILFERRY, "migrate", "--from", self.src.url(), "--to",
                              self.dst.url(), "--pop3-folder", "X"], env=env,
                             capture_output=True, text=True, stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn("--map 'INBOX=X'", res.stderr)
        # POP3 cannot be a destination.
        res = subprocess.run([MAILFERRY, "migrate", "--from", self.src.url(), "--to",
                              self.pop3_url()], env=env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn("destination must be an IMAP server", res.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
