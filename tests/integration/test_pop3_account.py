"""The POP3 source (src/pop3) against a real Dovecot POP3 server, at the C++ level.

Starts Dovecot with POP3 (plain + STLS, and implicit TLS), seeds alice's INBOX over IMAP
(tests/corpus/seed.py, plus messages with Received headers, without any date, with lines
that need dot-stuffing, and one over the 1 MB in-memory limit), writes what the C++ test
must find, and runs build/src/pop3/client/pop3_account_integration_test with that
environment. Then it checks, with tools that share no code with mailferry (Python's poplib
and imaplib via dump.py, and Dovecot's own log), that the mailbox was left unchanged: same
STAT/UIDL/LIST, same flags (no \\Seen added), and no DELE in any POP3 session.
"""

import datetime as dt
import email.utils
import hashlib
import imaplib
import json
import os
import poplib
import re
import ssl
import subprocess
import time
import unittest

from mftest import REPO, ServerTestCase

BUILD_DIR = os.environ.get("MF_BUILD_DIR", os.path.join(REPO, "build"))
GTEST = os.path.join(BUILD_DIR, "src", "pop3", "client", "pop3_account_integration_test")


def crlf(lines):
    return b"".join(l.encode("utf-8") + b"\r\n" for l in lines)


def normalized(dump):
    """A mailbox dump without what any reader changes: the session flag \\Recent (RFC 3501
    2.3.2; a POP3 session takes it like an IMAP SELECT does) and the LIST attributes \\Marked /
    \\UnMarked derived from it (RFC 3501 7.2.2), which Dovecot reports only once it knows."""
    out = json.loads(json.dumps(dump))
    for f in out["folders"]:
        f["attributes"] = [a for a in f.get("attributes", [])
                           if a.lower() not in ("\\marked", "\\unmarked")]
        for m in f.get("messages", []):
            m["flags"] = [x for x in m["flags"] if x.lower() != "\\recent"]
    return out


def extra_messages():
    """(raw bytes, date_source, epoch or None) for the messages added after the corpus."""
    out = []
    # Topmost Received wins over the older hop and over Date; folded, with a comment.
    received = crlf([
        "Return-Path: <bob@example.test>",
        "Received: from mx.example.test (mx.example.test [192.0.2.7])",
        "\tby mail.example.test (Postfix) with LMTP id 4ABC;",
        "\tWed, 15 May 2024 10:00:05 +0200 (CEST)",
        "Received: from out.example.org by mx.example.test; Wed, 15 May 2024 07:59:58 +0000",
        "Date: Wed, 15 May 2024 09:59:00 +0200",
        "From: Bob <bob@example.test>",
        "To: Alice <alice@example.test>",
        "Subject: delivered with Received headers",
        "Message-ID: <pop3-received@corpus.mailferry.test>",
        "",
        "The internal date must be the topmost Received date.",
    ])
    out.append((received, "Received",
                email.utils.parsedate_to_datetime("Wed, 15 May 2024 10:00:05 +0200").timestamp()))
    # No Received, no Date: the internal date is "now", reported.
    nodate = crlf([
        "From: Carol <carol@example.test>",
        "Subject: no date at all",
        "Message-ID: <pop3-nodate@corpus.mailferry.test>",
        "",
        "Neither Received nor Date.",
    ])
    out.append((nodate, "now", None))
    # Lines that POP3 must dot-stuff, and a Received without a usable date above a good one.
    dots = crlf([
        "Received: by relay.example.test with local id 1",
        "Received: from a by relay.example.test; Sat, 7 Sep 2019 18:00:00 -0700",
        "Subject: dots",
        "Message-ID: <pop3-dots@corpus.mailferry.test>",
        "",
        ".",
        "..",
        "...",
        ".leading dot",
        " . not at the start",
        "end",
    ])
    out.append((dots, "Received",
                email.utils.parsedate_to_datetime("Sat, 7 Sep 2019 18:00:00 -0700").timestamp()))
    # Over the 1 MB in-memory limit: goes through the temporary file; some lines start with ".".
    lines = ["Received: from big.example.test by mail.example.test; 3 Mar 2021 03:03:03 +0000",
             "Date: 1 Mar 2021 00:00:00 +0000",
             "Subject: big (3 MB)",
             "Message-ID: <pop3-big@corpus.mailferry.test>",
             ""]
    for i in range(40000):
        lines.append(("." if i % 9 == 0 else "") + ("%05d " % i) + chr(97 + i % 26) * 70)
    big = crlf(lines)
    out.append((big, "Received",
                email.utils.parsedate_to_datetime("3 Mar 2021 03:03:03 +0000").timestamp()))
    return out


class Pop3Account(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.start_server("pop3src", "slash", pop3=True)

    def pop3(self):
        ctx = ssl.create_default_context(cafile=self.srv.ca_file)
        p = poplib.POP3_SSL("127.0.0.1", self.srv.info["pop3s_port"], context=ctx, timeout=30)
        p.user("alice")
        p.pass_(self.srv.password("alice"))
        return p

    def pop3_snapshot(self):
        p = self.pop3()
        try:
            return {"stat": p.stat(), "uidl": p.uidl()[1], "list": p.list()[1]}
        finally:
            p.quit()

    def append(self, raw):
        ctx = ssl.create_default_context(cafile=self.srv.ca_file)
        c = imaplib.IMAP4_SSL("127.0.0.1", self.srv.info["imaps_port"], ssl_context=ctx)
        try:
            c.login("alice", self.srv.password("alice"))
            typ, data = c.append("INBOX", None, None, raw)
            self.assertEqual(typ, "OK", data)
        finally:
            c.logout()

    def pop3_log_lines(self):
        log = os.path.join(self.run_dir, "dovecot-pop3src", "dovecot.log")
        with open(log, encoding="utf-8", errors="replace") as f:
            return [l for l in f if re.search(r"\bpop3\(alice\)", l) and "Disconnected" in l]

    def test_pop3_account_against_dovecot(self):
        manifest = self.seed(self.srv, "full", extra=["--big-mb", "0"])
        expected = []
        for m in sorted((m for m in manifest["messages"] if m["folder"] == "INBOX"),
                        key=lambda m: m["uid"]):
            date = m.get("date_header")
            expected.append({
                "size": m["size"], "sha256": m["sha256"], "message_id": m["message_id"],
                "date_source": "Date" if date else "now",
                "internaldate_epoch":
                    int(email.utils.parsedate_to_datetime(date).timestamp()) if date else None,
            })
        for raw, source, epoch in extra_messages():
            self.append(raw)
            mid = re.search(rb"^Message-ID: (<[^>]+>)", raw, re.M | re.I)
            expected.append({
                "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest(),
                "message_id": mid.group(1).decode() if mid else None,
                "date_source": source,
                "internaldate_epoch": int(epoch) if epoch is not None else None,
            })
        path = os.path.join(self.run_dir, "pop3-expected.json")
        with open(path, "w") as f:
            json.dump({"messages": expected}, f)
        state_dir = os.path.join(self.run_dir, "pop3-state")
        os.makedirs(state_dir, exist_ok=True)

        pop_before = self.pop3_snapshot()
        self.assertEqual(pop_before["stat"][0], len(expected))
        imap_before = self.dump(self.srv)
        logins_before = len(self.pop3_log_lines())

        self.assertTrue(os.path.exists(GTEST), "build %s first (ninja pop3_account_integration_test)"
                        % GTEST)
        env = dict(os.environ,
                   MF_POP3_TEST_PORT=str(self.srv.info["pop3_port"]),
                   MF_POP3_TEST_TLS_PORT=str(self.srv.info["pop3s_port"]),
                   MF_POP3_TEST_CA_FILE=self.srv.ca_file,
                   MF_POP3_TEST_USER="alice",
                   MF_POP3_TEST_PASSWORD=self.srv.password("alice"),
                   MF_POP3_TEST_EXPECTED=path,
                   MF_POP3_TEST_STATE_DIR=state_dir,
                   MF_POP3_TEST_IMAPS_PORT=str(self.srv.info["imaps_port"]),
                   MF_POP3_TEST_DEST_USER="bob",
                   MF_POP3_TEST_DEST_PASSWORD=self.srv.password("bob"))
        started = time.monotonic()
        res = subprocess.run([GTEST, "--gtest_color=no"], env=env, capture_output=True, text=True,
                             timeout=300, stdin=subprocess.DEVNULL)
        out = res.stdout + res.stderr
        self.assertEqual(res.returncode, 0, out[-6000:])
        self.assertRegex(out, r"\[  PASSED  \] 7 tests")
        self.assertNotIn("SKIPPED", out)
        print("pop3_account_integration_test: %.1f s" % (time.monotonic() - started))

        # The source is exactly as it was: POP3's view...
        self.assertEqual(self.pop3_snapshot(), pop_before)
        # ... IMAP's view, flags included (Dovecot marks RETR'd mail \Seen at QUIT unless
        # pop3_no_flag_updates, which the test server sets; this also catches a regression in
        # that setting) ...
        imap_after = self.dump(self.srv)
        self.assertEqual(normalized(imap_after), normalized(imap_before))
        seen_before = {m["uid"] for f in imap_before["folders"] if f["name"] == "INBOX"
                       for m in f["messages"] if "\\Seen" in m["flags"]}
        seen_after = {m["uid"] for f in imap_after["folders"] if f["name"] == "INBOX"
                      for m in f["messages"] if "\\Seen" in m["flags"]}
        self.assertEqual(seen_after, seen_before)
        # ... and Dovecot's own account of every POP3 session: nothing deleted, ever.
        sessions = self.pop3_log_lines()[logins_before:]
        self.assertGreaterEqual(len(sessions), 6, sessions)
        for line in sessions:
            self.assertRegex(line, r"del=0/\d+", line)

        # Dovecot as installed (pop3_no_flag_updates = no) marks RETR'd messages \Seen at QUIT
        # (QUIRKS.md). With readWholeWithTop the messages are read by TOP and stay unseen;
        # with RETR they do not, which shows that the option is what makes the difference.
        self.restart_with_flag_updates()
        inbox_seen = lambda: {m["uid"] for f in self.dump(self.srv)["folders"]
                              if f["name"] == "INBOX" for m in f["messages"]
                              if "\\Seen" in m["flags"]}
        self.run_gtest(env, "*WholeMessagesReadWithTop")
        self.assertEqual(inbox_seen(), seen_before)
        self.run_gtest(env, "*BodiesOverImplicitTlsAreByteIdentical")
        self.assertEqual(inbox_seen(), {m["uid"] for f in imap_before["folders"]
                                        if f["name"] == "INBOX" for m in f["messages"]})
        for line in self.pop3_log_lines()[logins_before:]:
            self.assertRegex(line, r"del=0/\d+", line)

    def run_gtest(self, env, pattern):
        res = subprocess.run([GTEST, "--gtest_color=no", "--gtest_filter=" + pattern], env=env,
                             capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 0, (res.stdout + res.stderr)[-4000:])
        self.assertRegex(res.stdout, r"\[  PASSED  \] 1 test")

    def restart_with_flag_updates(self):
        """Restarts the instance with Dovecot's default pop3_no_flag_updates = no."""
        conf = self.srv.info["conf"]
        self.stop_server("pop3src")
        with open(conf) as f:
            text = f.read()
        self.assertIn("pop3_no_flag_updates = yes", text, "tests/servers/dovecot.sh changed")
        with open(conf, "w") as f:
            f.write(text.replace("pop3_no_flag_updates = yes", "pop3_no_flag_updates = no"))
        # Same configuration file, so dovecot.sh stop / stop-all still finds and stops it by PID.
        subprocess.run(["/usr/sbin/dovecot", "-c", conf], check=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.pop3().quit()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


if __name__ == "__main__":
    unittest.main()
