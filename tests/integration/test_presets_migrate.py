"""Provider presets in mailferry migrate and verify, and the server detection notice, against
real Dovecot servers.

The presets are test files in a temporary MAILFERRY_PRESETS_DIR whose hosts are 127.0.0.1 and
whose ports are the test servers': the source preset has a login rule (the part before '@'),
excluded and virtual folders and a connection limit; the destination preset a security mode
(STARTTLS, reached through a URL that names only the user), a small largest message, a
connection limit of 1 and a reserved folder name. A message over the limit fails alone with
code too_big before it is sent (Dovecot here has no limit, so had it been sent it would be
there). Each rule is reported once as a notice.

Server detection: a source that greets like Microsoft Exchange (tests/tools/quirk_imap.py,
profile exchange) gets the notice that contacts, calendars and tasks need an export of their
own; a Dovecot source does not.
"""

import imaplib
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile

from mftest import MAILFERRY, ServerTestCase

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from quirk_imap import QuirkServer, sample_fixture  # noqa: E402

BIG = 40000      # bytes of the message over the destination preset's limit
LIMIT = 20000    # the destination preset's max_message_bytes


def preset(name, title, port, security, login, max_bytes, max_connections, folders):
    return {"format": "mailferry-preset/1", "name": name, "title": title, "protocol": "imap",
            "host": "127.0.0.1", "port": port, "security": security, "login": login,
            "max_message_bytes": max_bytes, "max_connections": max_connections,
            "folders": folders}


class PresetsMigrate(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.start_server("presrc", "slash")
        cls.dst = cls.start_server("predst", "slash")
        cls.presets = tempfile.mkdtemp(prefix="mf-presets-", dir=cls.run_dir)
        files = {
            "testsrc": preset("testsrc", "Test Source Mail", cls.src.info["imaps_port"], "tls",
                              "local-part", None, 3,
                              {"exclude": ["Trash"], "virtual": ["Lists/Announcements"]}),
            "testdst": preset("testdst", "Test Destination Mail", cls.dst.info["imap_port"],
                              "starttls", "email", LIMIT, 1,
                              {"reserved": [{"name": "Lists", "rename_to": "Lists (migrated)"}]}),
        }
        for name, data in files.items():
            with open(os.path.join(cls.presets, name + ".json"), "w") as f:
                json.dump(data, f)
        cls.seeded = False

    def setUp(self):
        if PresetsMigrate.seeded:
            return
        self.seed(self.src, "simple")  # INBOX 4, Lists 3, Lists/Announcements 3
        ctx = ssl.create_default_context(cafile=self.src.ca_file)
        c = imaplib.IMAP4_SSL("127.0.0.1", self.src.info["imaps_port"], ssl_context=ctx)
        c.login("alice", self.src.password("alice"))
        head = b"From: a@example.test\r\nSubject: big\r\nMessage-ID: <big@presets.test>\r\n\r\n"
        self.big = head + b"x" * (BIG - len(head) - 2) + b"\r\n"
        self.assertEqual(c.append("INBOX", None, None, self.big)[0], "OK")
        c.create("Trash")
        self.assertEqual(c.append("Trash", None, None, b"Subject: t\r\n\r\ntrash\r\n")[0], "OK")
        c.logout()
        PresetsMigrate.seeded = True

    def run_mf(self, command, args):
        env = dict(os.environ, MAILFERRY_PRESETS_DIR=self.presets,
                   MAILFERRY_FROM_PASSWORD=self.src.password("alice"),
                   MAILFERRY_TO_PASSWORD=self.dst.password("bob"))
        argv = [MAILFERRY, command, "--from-preset", "testsrc", "--from-user",
                "alice@example.test", "--to", "imap://bob@", "--to-preset", "testdst",
                "--from-ca-file", self.src.ca_file, "--to-ca-file", self.dst.ca_file] + list(args)
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def test_1_presets_drive_the_migration(self):
        state = os.path.join(self.run_dir, "state.db")
        res = self.run_mf("migrate", ["--state", state, "--json"])
        # One message failed (too big): exit 1, everything else copied.
        self.assertEqual(res.returncode, 1, res.stdout[-3000:] + res.stderr[-3000:])
        events = [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]
        summary = events[-1]
        self.assertEqual(summary["event"], "summary")
        self.assertCountsAddUp(summary)
        folders = {f["source"]: f for f in summary["folders"]}
        self.assertEqual(sorted(folders), ["INBOX", "Lists"])
        self.assertEqual(sorted(summary["excluded"]), ["Lists/Announcements", "Trash"])
        self.assertEqual(folders["Lists"]["destination"], "Lists (migrated)")
        self.assertEqual(folders["Lists"]["copied"], 3)
        inbox = folders["INBOX"]
        self.assertEqual((inbox["copied"], inbox["failed"]), (4, 1))
        self.assertEqual(inbox["failures"][0]["code"], "too_big")
        self.assertIn("limit of %d bytes" % LIMIT, inbox["failures"][0]["text"])
        # Refused before sending: the destination (which has no limit) never got it.
        dump = self.dump(self.dst, "bob", bodies=True)
        names = {f["name"]: f for f in dump["folders"]}
        self.assertIn("Lists (migrated)", names)
        self.assertNotIn("Lists", names)
        self.assertNotIn("Trash", names)
        sizes = [m["size"] for m in names["INBOX"]["messages"]]
        self.assertEqual(len(sizes), 4)
        self.assertTrue(all(s < LIMIT for s in sizes), sizes)

        # Each rule once: on stderr, as a JSON notice, and in the summary.
        notices = [e for e in events if e.get("event") == "notice"]
        texts = [n["text"] for n in notices]
        self.assertEqual(texts, summary["notices"][:len(texts)])
        self.assertEqual(len(texts), len(set(texts)))
        expected = [
            "logging in as 'alice' (local-part rule of Test Source Mail for 'alice@example.test')",
            "source preset testsrc (Test Source Mail): not copying 'Trash'",
            "source preset testsrc (Test Source Mail): not copying 'Lists/Announcements'",
            "the folder name 'Lists' is reserved there: a source folder of that name is copied "
            "to 'Lists (migrated)'",
            "messages larger than %d bytes" % LIMIT,
            "at most 1 connection(s) per account: --parallel lowered from 4 to 1",
        ]
        for e in expected:
            self.assertEqual(sum(1 for t in texts if e in t), 1, (e, texts))
            self.assertIn(e, res.stderr)
        self.assertTrue(all(n["kind"] == "preset" for n in notices), notices)

        # Re-run: nothing new to copy, and the too-big message is still not sent.
        res = self.run_mf("migrate", ["--state", state, "--json"])
        summary = json.loads(res.stdout.splitlines()[-1])
        self.assertEqual(summary["copied"], 0)
        self.assertEqual(res.returncode, 1 if summary["failed"] else 0, res.stderr)
        inbox = [f for f in self.dump(self.dst, "bob")["folders"] if f["name"] == "INBOX"][0]
        self.assertEqual(len(inbox["messages"]), 4)

    def test_2_verify_applies_the_same_rules(self):
        res = self.run_mf("verify", ["--json"])
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)  # the big one is missing
        report = json.loads(res.stdout)
        folders = {f["source"]: f for f in report["folders"]}
        self.assertEqual(sorted(folders), ["INBOX", "Lists"])
        self.assertTrue(folders["Lists"]["identical"], folders["Lists"])
        self.assertEqual(folders["Lists"]["destination"], "Lists (migrated)")
        self.assertEqual(len(folders["INBOX"]["missing"]), 1)
        self.assertEqual(folders["INBOX"]["extra"], [])
        self.assertTrue(any("not copying 'Trash'" in n for n in report["notices"]))

    def test_3_include_by_exact_name_keeps_a_virtual_folder(self):
        res = self.run_mf("migrate", ["--dry-run", "--include", "*", "--include",
                                      "Lists/Announcements"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("Lists (migrated)/Announcements", res.stdout)
        self.assertNotIn("not copying 'Lists/Announcements'", res.stderr)
        self.assertIn("not copying 'Trash'", res.stderr)

    def test_4_usage(self):
        env = dict(os.environ, MAILFERRY_PRESETS_DIR=self.presets)
        res = subprocess.run([MAILFERRY, "migrate", "--from-preset", "nosuch", "--to",
                              "imaps://b@h"], env=env, capture_output=True, text=True)
        self.assertEqual(res.returncode, 2)
        self.assertIn("no preset named 'nosuch'; known: testdst, testsrc", res.stderr)
        res = subprocess.run([MAILFERRY, "migrate", "--from-preset", "testsrc", "--from",
                              "pop3s://alice@", "--to", "imaps://b@h"], env=env,
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 2)
        self.assertIn("the testsrc preset is IMAP but the URL says POP3", res.stderr)
        res = subprocess.run([MAILFERRY, "migrate", "--from", "imaps://alice@", "--to",
                              "imaps://b@h"], env=env, capture_output=True, text=True)
        self.assertEqual(res.returncode, 2)
        self.assertIn("--from-preset NAME", res.stderr)


class ServerDetection(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dst = cls.start_server("detdst", "slash")

    def migrate_from(self, fake, user):
        env = dict(os.environ, MAILFERRY_FROM_PASSWORD=fake.users.get("alice", "alice-pw"),
                   MAILFERRY_TO_PASSWORD=self.dst.password(user))
        argv = [MAILFERRY, "migrate", "--from", "imap://alice@127.0.0.1:%d" % fake.port,
                "--allow-plaintext", "--to", self.dst.url(user), "--to-ca-file",
                self.dst.ca_file, "--state", os.path.join(self.run_dir, user + ".db"), "--json"]
        res = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120,
                             stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 0, res.stdout[-3000:] + res.stderr[-3000:])
        return [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")], res

    def test_exchange_source_gets_the_contacts_and_calendars_notice(self):
        fake = QuirkServer(sample_fixture(), profile="exchange").start()
        self.addCleanup(fake.stop)
        events, res = self.migrate_from(fake, "alice")
        notices = [e for e in events if e.get("event") == "notice" and e["kind"] == "server"]
        self.assertEqual(len(notices), 1, events)
        text = notices[0]["text"]
        self.assertIn("Microsoft Exchange / Office 365: contacts, calendars and tasks are not "
                      "carried over IMAP", text)
        self.assertIn("PST", text)
        self.assertIn(text, res.stderr)
        self.assertIn(text, events[-1]["notices"])
        self.assertGreater(events[-1]["copied"], 0)

    def test_other_servers_get_no_such_notice(self):
        fake = QuirkServer(sample_fixture(), profile="generic").start()
        self.addCleanup(fake.stop)
        events, res = self.migrate_from(fake, "bob")
        self.assertEqual([e for e in events if e.get("event") == "notice"], [])
        self.assertNotIn("contacts", res.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
