"""What the destination refuses, and what it folds: folder names it will not create are renamed
by the stated rule and reported; two source folders that collide on a case-insensitive
destination stay apart; an empty message fails alone with a reason. The source is a real
Dovecot (or, for the empty message Dovecot cannot hold, the quirk server); the destination is
tests/tools/quirk_imap.py imitating Exchange (fold-case) and Gmail (refuse-names)."""

import json
import os
import sys
import unittest

from imaputil import mutf7_encode
from mftest import REPO, PairTestCase, ServerTestCase

sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
from quirk_imap import QuirkServer  # noqa: E402


class Fake:
    """A quirk server seen through mftest's Server interface (plain imap://)."""

    def __init__(self, srv, ca_file):
        self.srv = srv
        self.ca_file = ca_file

    def url(self, user="alice", tls=True):
        return "imap://%s@127.0.0.1:%d" % (user, self.srv.port)

    def password(self, user="alice"):
        return self.srv.users[user]


def names(dump):
    return {f["name"]: len(f["messages"]) for f in dump["folders"] if not f.get("noselect")}


class Refusals(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.start_server("src", "slash")

    def fake(self, quirks=()):
        # Same users and passwords as the Dovecot source, an empty mailbox each.
        fixture = {"users": dict(self.src.info["users"]), "folders": []}
        srv = QuirkServer(fixture, quirks=quirks).start()
        self.addCleanup(srv.stop)
        return Fake(srv, self.src.ca_file)

    def append(self, user, folder, raws):
        conn = self.src.imap(user)
        wire = '"%s"' % mutf7_encode(folder)
        conn.create(wire)
        for raw in raws:
            typ, data = conn.append(wire, None, None, raw)
            self.assertEqual(typ, "OK", data)
        conn.logout()

    def migrate(self, dst, state, user, expect_exit=0):
        summary = self.migrate_json(self.src, dst, state, ["--allow-plaintext", "--parallel", "1"],
                                    user=user, expect_exit=expect_exit)
        self.assertCountsAddUp(summary)
        return summary

    def verify(self, dst, user, args=()):
        res = self.mailferry("verify", self.src, dst, ["--allow-plaintext", "--json"] + list(args),
                             user=user)
        report = json.loads([l for l in res.stdout.splitlines() if l.startswith("{")][-1])
        return res, report

    def assertVerifiedIdentical(self, dst, user, renamed, args=()):
        """mailferry verify --json: identical, each of `renamed` (source -> destination)
        compared with the folder migrate renamed it to. Returns the report's folders."""
        res, report = self.verify(dst, user, args)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        pairs = {f["source"]: f["destination"] for f in report["folders"]}
        for source, destination in renamed.items():
            self.assertEqual(pairs.get(source), destination, report["folders"])
        return report["folders"]

    def test_case_collision_keeps_both_folders_apart(self):
        self.append("bob", "Trash", [b"Subject: upper\r\n\r\none\r\n"])
        self.append("bob", "trash", [b"Subject: lower 1\r\n\r\ntwo\r\n",
                                     b"Subject: lower 2\r\n\r\nthree\r\n"])
        dst = self.fake(["fold-case"])
        state = os.path.join(self.run_dir, "case.db")
        summary = self.migrate(dst, state, "bob")
        got = names(dst.srv.dump())
        # Both folders arrived, each with its own messages, under different names.
        self.assertEqual(sorted(v for k, v in got.items() if k.lower().startswith("trash")),
                         [1, 2], got)
        notes = [n for f in summary["folders"] for n in f["notes"]]
        self.assertTrue(any("ignores case" in n for n in notes), notes)
        placed = {f["source"]: f["destination"] for f in summary["folders"]}
        # verify, reading the state file, compares each folder with the one migrate filled
        # (planned afresh, the two source folders would now map elsewhere: the destination's
        # Trash exists).
        self.assertVerifiedIdentical(dst, "bob", placed, ["--state", state])
        # A re-run neither copies again nor invents a third folder.
        again = self.migrate(dst, state, "bob")
        self.assertEqual(again["copied"], 0)
        self.assertEqual(names(dst.srv.dump()), got)
        # Once the other folder is gone from the source, the numbered one's source folder
        # alone plans to its own name, which the destination holds (the other folder's mail,
        # under another case): it goes on in its numbered folder instead, or its mail would be
        # split over two folders and mixed with the other one's.
        numbered = [f for f in summary["folders"] if f["destination"].lower().startswith("trash (")]
        self.assertEqual(len(numbered), 1, summary["folders"])
        kept, moved_to = numbered[0]["source"], numbered[0]["destination"]
        other = "trash" if kept == "Trash" else "Trash"
        with self.src.imap("bob") as conn:
            self.assertEqual(conn.delete(other)[0], "OK")
        self.append("bob", kept, [b"Subject: later\r\n\r\nfour\r\n"])
        later = self.migrate(dst, state, "bob")
        self.assertEqual(later["copied"], 1, later)
        got_later = names(dst.srv.dump())
        self.assertEqual(got_later[moved_to], got[moved_to] + 1, got_later)
        self.assertEqual({k: v for k, v in got_later.items() if k != moved_to},
                         {k: v for k, v in got.items() if k != moved_to})
        notes = [n for f in later["folders"] for n in f["notes"]]
        self.assertTrue(any("going on in '%s'" % moved_to in n for n in notes), notes)
        # verify compares the numbered folder with its source folder, as migrate went on
        # there, and says why; planned afresh, the source folder alone maps to its own name,
        # which holds the other folder's mail.
        folders = self.assertVerifiedIdentical(dst, "bob", {kept: moved_to}, ["--state", state])
        notes = [n for f in folders for n in f["notes"]]
        self.assertTrue(any("compared with '%s', where migrate copied this folder" % moved_to
                            in n for n in notes), folders)
        res, report = self.verify(dst, "bob", ["--no-state"])
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertNotEqual({f["source"]: f["destination"] for f in report["folders"]}[kept],
                            moved_to, report["folders"])

    def test_refused_folder_names_are_renamed_and_reported(self):
        self.append("carol", "日本語\u3000フォルダ", [b"Subject: cjk\r\n\r\nx\r\n"])
        self.append("carol", "Caret^Name", [b"Subject: caret\r\n\r\ny\r\n"])
        dst = self.fake(["refuse-names=^"])
        state = os.path.join(self.run_dir, "names.db")
        summary = self.migrate(dst, state, "carol")
        got = names(dst.srv.dump())
        self.assertEqual(got.get("日本語 フォルダ"), 1, got)
        self.assertEqual(got.get("Caret_Name"), 1, got)
        notes = [n for f in summary["folders"] for n in f["notes"]]
        self.assertTrue(any("refused the folder name" in n for n in notes), notes)
        self.assertEqual(self.migrate(dst, state, "carol")["copied"], 0)
        self.assertEqual(names(dst.srv.dump()), got)
        # verify finds each folder where migrate's stated rule put it.
        self.assertVerifiedIdentical(dst, "carol", {"Caret^Name": "Caret_Name",
                                                    "日本語\u3000フォルダ": "日本語 フォルダ"})

    def test_ideographic_space_is_kept_where_accepted(self):
        self.append("alice", "日本語\u3000保存", [b"Subject: kept\r\n\r\nz\r\n"])
        dst = self.fake()
        self.migrate(dst, os.path.join(self.run_dir, "kept.db"), "alice")
        self.assertEqual(names(dst.srv.dump()).get("日本語\u3000保存"), 1)


class RetryErrors(PairTestCase):
    """--retry-errors re-attempts exactly the messages that failed, and nothing new."""

    def test_retry_errors_copies_only_what_failed(self):
        conn = self.src.imap()
        big = b"Subject: big\r\n\r\n" + b"x" * 3000 + b"\r\n"
        for raw in [b"Subject: small 1\r\n\r\na\r\n", big, b"Subject: small 2\r\n\r\nb\r\n"]:
            self.assertEqual(conn.append("INBOX", None, None, raw)[0], "OK")
        state = os.path.join(self.run_dir, "retry.db")
        # 1. A 2 KB limit: the big message fails alone, before anything is sent.
        first = self.migrate_json(self.src, self.dst, state, ["--max-message-size", "0.002"],
                                  expect_exit=1)
        self.assertCountsAddUp(first)
        inbox = [f for f in first["folders"] if f["source"] == "INBOX"][0]
        self.assertEqual((inbox["copied"], inbox["failed"]), (2, 1), inbox)
        self.assertEqual(inbox["failures"][0]["code"], "too_big")
        # 2. New mail arrives; --retry-errors (no limit now) copies the failed one only.
        self.assertEqual(conn.append("INBOX", None, None, b"Subject: new\r\n\r\nc\r\n")[0], "OK")
        conn.logout()
        retry = self.migrate_json(self.src, self.dst, state, ["--retry-errors"])
        self.assertEqual(retry["copied"], 1, retry)
        self.assertEqual(retry["failed"], 0)
        # 3. A normal run then copies the new message, and everything matches.
        self.assertEqual(self.migrate_json(self.src, self.dst, state)["copied"], 1)
        res = self.mailferry("verify", self.src, self.dst, ["--deep"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)


class EmptyMessage(ServerTestCase):
    """Dovecot cannot hold an empty message, so the source is the quirk server; the
    destination is a real Dovecot, which refuses it ("Can't save a zero byte message")."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dst = cls.start_server("dst", "slash")

    def test_empty_message_fails_alone_with_a_reason(self):
        fixture = {"folders": [{"name": "INBOX", "messages": [
            {"body": "Subject: before\r\n\r\nfirst\r\n"},
            {"body": ""},
            {"body": "Subject: after\r\n\r\nlast\r\n"}]}]}
        srv = QuirkServer(fixture).start()
        self.addCleanup(srv.stop)
        src = Fake(srv, self.dst.ca_file)
        summary = self.migrate_json(src, self.dst, os.path.join(self.run_dir, "empty.db"),
                                    ["--allow-plaintext"], expect_exit=1)
        self.assertCountsAddUp(summary)
        inbox = [f for f in summary["folders"] if f["source"] == "INBOX"][0]
        self.assertEqual((inbox["copied"], inbox["failed"]), (2, 1), inbox)
        failure = inbox["failures"][0]
        self.assertIn("zero byte", failure["text"])
        self.assertIn("what to do", failure["text"])
        self.assertEqual(failure["class"], "destination_limit")


if __name__ == "__main__":
    unittest.main(verbosity=2)
