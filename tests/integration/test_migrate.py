"""mailferry migrate + verify against real Dovecot servers: the acceptance tests of the
migrate issue (full corpus, re-runs, increments, dry run, UIDVALIDITY change, kill -9)."""

import glob
import hashlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import time
import unittest

from mftest import MAILFERRY, PairTestCase, ServerTestCase


class SlashToSlash(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.start_server("src", "slash")
        cls.dst = cls.start_server("dst", "slash")
        cls.state = os.path.join(cls.run_dir, "state.db")
        cls.manifest = None

    def setUp(self):
        if SlashToSlash.manifest is None:
            SlashToSlash.manifest = self.seed(self.src, "full")

    def verify_deep(self, dst=None):
        res = self.mailferry("verify", self.src, dst or self.dst, ["--deep"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("Result: identical", res.stdout)
        return res

    def test_1_full_corpus_is_copied_exactly(self):
        m = self.manifest
        summary = self.migrate_json(self.src, self.dst, self.state)
        self.assertCountsAddUp(summary)
        self.assertEqual(summary["failed"], 0)
        self.assertEqual(summary["folders_failed"], 0)
        self.assertEqual(summary["copied"], m["totals"]["messages"])
        self.assertEqual(sum(f["skipped_deleted"] for f in summary["folders"]),
                         m["totals"]["deleted"])
        self.verify_deep()
        # The independent oracle: bytes, flags, keywords, internal dates, subscriptions.
        oracle = self.oracle_verify(self.dst, m)
        self.assertEqual(oracle.returncode, 0, oracle.stdout + oracle.stderr)
        # Non-ASCII names, including the ideographic space, arrive as such.
        names = {f["name"] for f in self.dump(self.dst)["folders"]}
        self.assertIn("Entwürfe alt", names)
        self.assertIn("日本語\u3000フォルダ", names)
        self.assertIn("Work/Projects/2024", names)
        self.assertStateHoldsMessageIds(m)

    def assertStateHoldsMessageIds(self, manifest):
        """The listing leaves Message-IDs out and the copy reads them from the streamed
        header: every copied record must still hold its message's exact Message-ID (the
        UIDVALIDITY re-match and crash recovery depend on it)."""
        expected = {(e["folder"], e["uid"]): e["message_id"] or ""
                    for e in manifest["messages"] if not e["deleted"]}
        with sqlite3.connect(self.state) as db:
            rows = db.execute("SELECT source_folder, source_uid, message_id FROM messages "
                              "WHERE state = 1").fetchall()
        self.assertEqual(len(rows), len(expected))
        wrong = [(f, u, mid, expected.get((f, u))) for f, u, mid in rows
                 if expected.get((f, u)) != mid]
        self.assertEqual(wrong, [])
        self.assertTrue(any(mid == "" for mid in expected.values()))  # some have none
        self.assertTrue(any(mid != "" for mid in expected.values()))

    def test_2_rerun_copies_nothing(self):
        summary = self.migrate_json(self.src, self.dst, self.state)
        self.assertEqual(summary["copied"], 0)
        self.assertEqual(summary["failed"], 0)
        self.assertTrue(all(f["up_to_date"] for f in summary["folders"]), summary)

    def test_3_ten_new_messages_are_copied_exactly_once(self):
        added = self.seed(self.src, "add", extra=["--count", "10", "--seed", "7"])
        summary = self.migrate_json(self.src, self.dst, self.state)
        self.assertEqual(summary["copied"], 10)
        inbox = [f for f in summary["folders"] if f["source"] == "INBOX"][0]
        self.assertEqual(inbox["copied"], 10)
        self.assertEqual(self.migrate_json(self.src, self.dst, self.state)["copied"], 0)
        self.verify_deep()
        self.assertTrue(added)

    def test_4_dry_run_changes_nothing(self):
        self.seed(self.src, "add", extra=["--count", "3", "--seed", "8"])
        before = self.dump(self.dst)
        res = self.mailferry("migrate", self.src, self.dst, ["--state", self.state, "--dry-run"])
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("Dry run", res.stdout)
        inbox_line = [l for l in res.stdout.splitlines() if l.startswith("INBOX ")][0]
        self.assertEqual(inbox_line.split()[2], "3", res.stdout)
        self.assertEqual(self.dump(self.dst), before)
        # The dry run did not record anything either: the real run copies the 3.
        self.assertEqual(self.migrate_json(self.src, self.dst, self.state)["copied"], 3)

    def test_5_uidvalidity_change_is_rematched_without_duplicates(self):
        # Dovecot assigns a new UIDVALIDITY when its uidlist and index are gone.
        inbox = self.src.maildir()
        removed = glob.glob(os.path.join(inbox, "dovecot-uidlist")) + \
            glob.glob(os.path.join(inbox, "dovecot.index*"))
        self.assertTrue(removed)
        for path in removed:
            os.unlink(path)
        summary = self.migrate_json(self.src, self.dst, self.state)
        self.assertEqual(summary["copied"], 0, summary)
        inbox_report = [f for f in summary["folders"] if f["source"] == "INBOX"][0]
        self.assertTrue(any("UIDVALIDITY" in n for n in inbox_report["notes"]), inbox_report)
        self.verify_deep()

    def test_6_kill_9_after_each_state_write_loses_and_duplicates_nothing(self):
        """Crash right after the k-th state write of a run, for growing k, then finish."""
        dst2 = self.start_server("dst2", "slash")
        state = os.path.join(self.run_dir, "state-kill.db")
        env = dict(os.environ, MAILFERRY_FROM_PASSWORD=self.src.password(),
                   MAILFERRY_TO_PASSWORD=dst2.password())
        argv = [MAILFERRY, "migrate", "--from", self.src.url(), "--to", dst2.url(),
                "--from-ca-file", self.src.ca_file, "--to-ca-file", dst2.ca_file,
                "--state", state, "--progress", "none", "--batch-messages", "3"]
        killed = 0
        for k in [1, 2, 3, 4, 6, 9, 13]:
            res = subprocess.run(argv, env=dict(env, MAILFERRY_CRASH_AFTER_STATE_WRITES=str(k)),
                                 capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
            if res.returncode == -signal.SIGKILL:
                killed += 1
        self.assertGreaterEqual(killed, 5)
        summary = self.migrate_json(self.src, dst2, state)
        self.assertEqual(summary["failed"], 0)
        self.verify_deep(dst2)
        self.assertEqual(self.migrate_json(self.src, dst2, state)["copied"], 0)

    def test_7_kill_9_at_random_moments_loses_and_duplicates_nothing(self):
        dst3 = self.start_server("dst3", "slash")
        state = os.path.join(self.run_dir, "state-random.db")
        rng = random.Random(int(os.environ.get("MF_TEST_SEED", "42")))
        env = dict(os.environ, MAILFERRY_FROM_PASSWORD=self.src.password(),
                   MAILFERRY_TO_PASSWORD=dst3.password())
        argv = [MAILFERRY, "migrate", "--from", self.src.url(), "--to", dst3.url(),
                "--from-ca-file", self.src.ca_file, "--to-ca-file", dst3.ca_file,
                "--state", state, "--progress", "none", "--batch-messages", "2"]
        for _ in range(5):
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.02, 0.4))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait()
        summary = self.migrate_json(self.src, dst3, state)
        self.assertEqual(summary["failed"], 0)
        self.verify_deep(dst3)


class Compressed(ServerTestCase):
    """COMPRESS=DEFLATE (RFC 4978) with Dovecot's imap_zlib, over TLS: what travels is
    deflated in both directions, and the copy is still exact."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.start_server("zsrc", "slash")
        cls.dst = cls.start_server("zdst", "slash")

    def test_compressed_migration_is_exact_and_said(self):
        manifest = self.seed(self.src, "full")
        state = os.path.join(self.run_dir, "state-z.db")
        summary = self.migrate_json(self.src, self.dst, state, ["--compress", "yes"])
        self.assertEqual(summary["failed"], 0)
        self.assertEqual(summary["copied"], manifest["totals"]["messages"])
        compressed = [n for n in summary["notices"] if "COMPRESS=DEFLATE" in n]
        self.assertEqual(len(compressed), 2, summary["notices"])  # source and destination
        res = self.mailferry("verify", self.src, self.dst, ["--deep", "--compress", "yes"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("Result: identical", res.stdout)
        self.assertIn("compressed with COMPRESS=DEFLATE", res.stderr)
        # A re-run (fresh sessions, compressed again) finds nothing new.
        again = self.migrate_json(self.src, self.dst, state, ["--compress", "yes"])
        self.assertEqual(again["copied"], 0)

    def test_uncompressed_unless_asked(self):
        # A dry run connects like a real one and changes nothing.
        state = os.path.join(self.run_dir, "state-auto.db")
        summary = self.migrate_json(self.src, self.dst, state, ["--dry-run"])
        self.assertTrue(summary["dry_run"])
        self.assertEqual([n for n in summary["notices"] if "COMPRESS" in n], [])


class CourierToSlash(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.start_server("courier", "courier")
        cls.dst = cls.start_server("dst", "slash")

    def test_courier_names_are_translated(self):
        manifest = self.seed(self.src, "full", extra=["--prefix", "INBOX.", "--sep", "."])
        state = os.path.join(self.run_dir, "state.db")
        summary = self.migrate_json(self.src, self.dst, state)
        self.assertEqual(summary["failed"], 0)
        self.assertEqual(summary["copied"], manifest["totals"]["messages"])
        names = {f["name"] for f in self.dump(self.dst)["folders"]}
        for expected in ["INBOX", "Sent", "Work", "Work/Projects", "Work/Projects/2024",
                         "Archive/2023", "Entwürfe alt", "日本語\u3000フォルダ"]:
            self.assertIn(expected, names)
        self.assertFalse([n for n in names if n.startswith("INBOX/") or n.startswith("INBOX.")],
                         names)
        oracle = self.oracle_verify(self.dst, manifest, extra=["--prefix", "", "--sep", "/"])
        self.assertEqual(oracle.returncode, 0, oracle.stdout + oracle.stderr)
        res = self.mailferry("verify", self.src, self.dst, ["--deep"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)


class NoselectParentOnDestination(PairTestCase):
    """A destination where "Work" exists only as the \\Noselect parent of "Work/Projects" (what a
    run stopped between creating the child and the parent leaves behind on Dovecot): "Work" is
    not a folder yet, so it is created (Dovecot then makes it selectable) and filled, not taken
    as existing and then failed on SELECT."""

    def test_a_noselect_parent_is_created_and_filled(self):
        manifest = self.seed(self.src, "full")
        with self.dst.imap() as imap:
            self.assertEqual(imap.create("Work/Projects")[0], "OK")
            listed = imap.list('""', '"Work"')[1]
            self.assertIn(b"\\Noselect", listed[0], listed)
        summary = self.migrate_json(self.src, self.dst, os.path.join(self.run_dir, "state.db"))
        self.assertEqual((summary["failed"], summary["folders_failed"]), (0, 0), summary)
        self.assertEqual(summary["copied"], manifest["totals"]["messages"])
        oracle = self.oracle_verify(self.dst, manifest)
        self.assertEqual(oracle.returncode, 0, oracle.stdout + oracle.stderr)


class ChangedMapBetweenRuns(PairTestCase):
    """A --map rule changed after a folder was copied: the folder goes on in the destination
    the earlier runs filled (its mail stays in one folder, nothing is copied twice), the run
    says so and how to switch; renaming that folder on the destination to the new name is the
    switch, and the next run goes on there without copying anything again."""

    def test_changed_map_keeps_the_earlier_destination_and_says_how_to_switch(self):
        manifest = self.seed(self.src, "full")
        state = os.path.join(self.run_dir, "state.db")
        first = self.migrate_json(self.src, self.dst, state, ["--map", "Work=Old"])
        self.assertEqual((first["failed"], first["copied"]), (0, manifest["totals"]["messages"]))
        names = {f["name"] for f in self.dump(self.dst)["folders"]}
        self.assertIn("Old/Projects", names)

        second = self.migrate_json(self.src, self.dst, state, ["--map", "Work=New"])
        self.assertEqual((second["failed"], second["copied"]), (0, 0), second)
        names = {f["name"] for f in self.dump(self.dst)["folders"]}
        self.assertFalse([n for n in names if n == "New" or n.startswith("New/")], names)
        work = [f for f in second["folders"] if f["source"] == "Work/Projects"]
        self.assertEqual(len(work), 1, second["folders"])
        self.assertEqual(work[0]["destination"], "Old/Projects")
        notes = " ".join(work[0]["notes"])
        self.assertIn("'Old/Projects'", notes)
        self.assertIn("'New/Projects'", notes)
        self.assertIn("To switch, rename 'Old/Projects' to 'New/Projects'", notes)

        # Unchanged since: up to date without a listing; a dry run plans the same folder.
        again = self.migrate_json(self.src, self.dst, state, ["--map", "Work=New"])
        work = [f for f in again["folders"] if f["source"] == "Work/Projects"][0]
        self.assertEqual((work["destination"], work["up_to_date"], work["seen"]),
                         ("Old/Projects", True, 0), work)
        dry = self.migrate_json(self.src, self.dst, state, ["--map", "Work=New", "--dry-run"])
        work = [f for f in dry["folders"] if f["source"] == "Work/Projects"][0]
        self.assertEqual((work["destination"], work["will_create"]), ("Old/Projects", False), work)
        self.assertIn("To switch", " ".join(work["notes"]))
        # verify reads the state file: the folder is compared where migrate went on, and the
        # report says why. Without the state it looks for the new name, which is not there.
        res = self.mailferry("verify", self.src, self.dst,
                             ["--deep", "--map", "Work=New", "--state", state, "--json"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        report = json.loads(res.stdout.splitlines()[-1])
        work = [f for f in report["folders"] if f["source"] == "Work/Projects"][0]
        self.assertEqual((work["destination"], work["identical"]), ("Old/Projects", True), work)
        self.assertIn("where earlier migrate runs copied this folder (state file); the folder "
                      "rules now give 'New/Projects'", " ".join(work["notes"]))
        res = self.mailferry("verify", self.src, self.dst, ["--map", "Work=New", "--no-state"])
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertIn("destination folder 'New/Projects' does not exist", res.stdout)

        # The switch: rename on the destination, one new message on the source.
        with self.dst.imap() as imap:
            self.assertEqual(imap.rename("Old", "New")[0], "OK")
        res = self.mailferry("verify", self.src, self.dst,
                             ["--map", "Work=New", "--state", state, "--json"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        work = [f for f in json.loads(res.stdout.splitlines()[-1])["folders"]
                if f["source"] == "Work/Projects"][0]
        self.assertEqual(work["destination"], "New/Projects", work)
        self.assertIn("copied this folder to 'Old/Projects', which the destination no longer "
                      "has", " ".join(work["notes"]))
        new_message = (b"From: a@example.test\r\nSubject: after the rename\r\n"
                       b"Message-ID: <after-rename@migrate.mailferry.test>\r\n\r\nbody\r\n")
        with self.src.imap() as imap:
            self.assertEqual(imap.append("Work/Projects", None, None, new_message)[0], "OK")
        third = self.migrate_json(self.src, self.dst, state, ["--map", "Work=New"])
        self.assertEqual((third["failed"], third["copied"]), (0, 1), third)
        work = [f for f in third["folders"] if f["source"] == "Work/Projects"]
        self.assertEqual(work[0]["destination"], "New/Projects")
        self.assertFalse([n for n in work[0]["notes"] if "earlier runs" in n], work[0]["notes"])
        res = self.mailferry("verify", self.src, self.dst,
                             ["--deep", "--map", "Work=New", "--state", state])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("Result: identical", res.stdout)
        self.assertNotIn("note:", res.stdout)


class VerifyStateFile(PairTestCase):
    """verify reads migrate's state file only to learn where folders went: a missing or
    unreadable file given with --state stops it with what to do, an unreadable default file is
    a notice, and it never writes the file."""

    def test_state_file_problems_are_said_and_nothing_is_written(self):
        missing = os.path.join(self.run_dir, "no-such-state.db")
        res = self.mailferry("verify", self.src, self.dst, ["--state", missing])
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
        self.assertIn("state file %s does not exist: give the --state that migrate used, or "
                      "--no-state" % missing, res.stderr)
        self.assertFalse(os.path.exists(missing))
        res = self.mailferry("verify", self.src, self.dst, ["--state", missing, "--no-state"])
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)

        garbage = os.path.join(self.run_dir, "garbage.db")
        with open(garbage, "wb") as f:
            f.write(b"not a state file\n" * 300)
        res = self.mailferry("verify", self.src, self.dst, ["--state", garbage])
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
        self.assertIn("is not a mailferry state file", res.stderr)
        self.assertIn("or verify with --no-state", res.stderr)

        # The same file at the default path: said, and the folders compared by the rules.
        saved = os.environ["MAILFERRY_STATE"]
        self.addCleanup(os.environ.__setitem__, "MAILFERRY_STATE", saved)
        os.environ["MAILFERRY_STATE"] = garbage
        res = self.mailferry("verify", self.src, self.dst, ["--json"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("is not a mailferry state file (not an SQLite database): folders are "
                      "compared by the folder rules alone", res.stderr)
        report = json.loads(res.stdout.splitlines()[-1])
        self.assertTrue(any("folder rules alone" in n for n in report["notices"]), report)
        with open(garbage, "rb") as f:
            self.assertEqual(f.read(), b"not a state file\n" * 300)

        # A real state file: verify leaves it byte for byte as migrate wrote it.
        state = os.path.join(self.run_dir, "state.db")
        self.migrate_json(self.src, self.dst, state)
        with open(state, "rb") as f:
            before = f.read()
        res = self.mailferry("verify", self.src, self.dst, ["--state", state])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        with open(state, "rb") as f:
            self.assertEqual(f.read(), before)


def mail(n, subject):
    return (b"From: a@example.test\r\nSubject: %s\r\nMessage-ID: <all-%d@migrate.mailferry.test>"
            b"\r\n\r\nbody %d\r\n" % (subject.encode(), n, n))


class AllMailFolder(PairTestCase):
    """A source folder that shows all mail (SPECIAL-USE \\All, as Gmail's "[Gmail]/All Mail",
    here a Dovecot folder filled like it): the mail only it holds (Gmail's archived mail) is
    copied from it, to the destination's archive; what other folders hold goes with those
    folders, once. Copying it whole would duplicate every message; leaving it out would lose
    the archived mail."""

    def fill(self, user, folders):
        """folders: {name: [bytes]}; created as needed."""
        with self.src.imap(user) as imap:
            for name, messages in folders.items():
                if name != "INBOX":
                    imap.create('"%s"' % name)
                for raw in messages:
                    self.assertEqual(imap.append('"%s"' % name, None, None, raw)[0], "OK")

    def sha256s(self, user):
        return {f["name"]: sorted(m["sha256"] for m in f.get("messages", []))
                for f in self.dump(self.dst, user=user, bodies=True)["folders"]
                if not f.get("noselect")}

    def run_case(self, user, all_mail, args=(), migrate_only=()):
        """`args` for migrate and verify, `migrate_only` for migrate alone."""
        verify_args = list(args)
        args = list(args) + list(migrate_only)
        state = os.path.join(self.run_dir, "state-%s.db" % user)
        inbox, work, archived = [mail(1, "a"), mail(2, "b")], [mail(3, "c")], [mail(4, "d"),
                                                                             mail(5, "e")]
        # Flagged \\Deleted in Work (its label on the way out): not held there, so archived.
        leaving = mail(8, "h")
        self.fill(user, {"INBOX": inbox, "Work": work + [leaving],
                         all_mail: inbox + work + archived + [leaving]})
        with self.src.imap(user) as imap:
            imap.select("Work")
            self.assertEqual(imap.store("2", "+FLAGS", "(\\Deleted)")[0], "OK")
        archived = archived + [leaving]
        first = self.migrate_json(self.src, self.dst, state, list(args), user=user)
        self.assertEqual((first["copied"], first["failed"]), (6, 0), first)
        got = self.sha256s(user)
        h = lambda raws: sorted(hashlib.sha256(r).hexdigest() for r in raws)  # noqa: E731
        self.assertEqual(got.get("INBOX"), h(inbox), got)
        self.assertEqual(got.get("Work"), h(work), got)
        self.assertEqual(got.get("Archive"), h(archived), got)
        self.assertNotIn(all_mail, got)
        folder = [f for f in first["folders"] if f["source"] == all_mail][0]
        self.assertEqual(folder["destination"], "Archive")
        self.assertIn("3 message(s) listed here are in other folders too",
                      " ".join(folder["notes"]))

        self.assertEqual(self.migrate_json(self.src, self.dst, state, list(args),
                                           user=user)["copied"], 0)
        # New mail: one in INBOX (and All Mail, as Gmail shows it), one archived at once.
        self.fill(user, {"INBOX": [mail(6, "f")], all_mail: [mail(6, "f"), mail(7, "g")]})
        again = self.migrate_json(self.src, self.dst, state, list(args), user=user)
        self.assertEqual(again["copied"], 2, again)
        got = self.sha256s(user)
        self.assertEqual(got.get("INBOX"), h(inbox + [mail(6, "f")]), got)
        self.assertEqual(got.get("Archive"), h(archived + [mail(7, "g")]), got)
        res = self.mailferry("verify", self.src, self.dst,
                             ["--deep", "--state", state] + verify_args, user=user)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("4 message(s) here are in other folders too: compared there", res.stdout)

    def test_a_folder_marked_all_is_copied_for_its_archived_mail(self):
        self.run_case("alice", "All Mail")

    def test_a_destination_that_shows_all_mail_too(self):
        # Gmail as the destination: its All Mail (\\All) gets the archived mail, and shows
        # every labelled message as well (imitated here by appending them there too), which
        # verify must not take for extra messages.
        with self.dst.imap("carol") as imap:
            self.assertEqual(imap.create('"All Mail"')[0], "OK")
        state = os.path.join(self.run_dir, "state-carol.db")
        inbox, archived = [mail(11, "k")], [mail(12, "l")]
        self.fill("carol", {"INBOX": inbox, "All Mail": inbox + archived})
        first = self.migrate_json(self.src, self.dst, state, user="carol")
        self.assertEqual(first["copied"], 2, first)
        folder = [f for f in first["folders"] if f["source"] == "All Mail"][0]
        self.assertEqual(folder["destination"], "All Mail")
        with self.dst.imap("carol") as imap:
            self.assertEqual(imap.append('"All Mail"', None, None, inbox[0])[0], "OK")
        res = self.mailferry("verify", self.src, self.dst, ["--deep", "--state", state],
                             user="carol")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

    def test_gmail_preset_names_all_mail(self):
        # No \\All here: the preset names the folder.
        self.run_case("bob", "[Gmail]/All Mail", ["--from-preset", "gmail"])

    def test_all_mail_listed_in_windows(self):
        # --listing-window 2: All Mail (6 messages, then 8) is listed two at a time; what other
        # folders hold is dropped from each window, and the note counts them all.
        self.run_case("dave", "All Mail", migrate_only=["--listing-window", "2"])


class DestinationFolderReplaced(PairTestCase):
    """A destination folder deleted after a run (and created again, or not), or refilled by
    hand with some of its messages: the next run finds out from its UIDVALIDITY, copies again
    exactly what the folder lost, and duplicates nothing it kept, even with nothing new on
    the source (where the run would otherwise settle the folder as up to date)."""

    WINDOW = []  # migrate's --listing-window: the default (every folder listed whole)

    def source_messages(self, folder):
        """(flags, internal date, bytes) of each message of a source folder, read-only."""
        with self.src.imap() as imap:
            self.assertEqual(imap.select('"%s"' % folder, readonly=True)[0], "OK")
            typ, data = imap.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
            self.assertEqual(typ, "OK")
        out = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            head = item[0].decode()
            flags = " ".join(f for f in re.search(r"FLAGS \(([^)]*)\)", head).group(1).split()
                             if f != "\\Recent")
            date = re.search(r'INTERNALDATE "([^"]+)"', head).group(1)
            out.append(("(%s)" % flags, '"%s"' % date, item[1]))
        return out

    def test_replaced_folders_get_back_what_they_lost_and_nothing_twice(self):
        manifest = self.seed(self.src, "full")
        counts = {f["name"]: f["messages"] for f in manifest["folders"]}
        state = os.path.join(self.run_dir, "state.db")
        first = self.migrate_json(self.src, self.dst, state, self.WINDOW)
        self.assertEqual((first["failed"], first["copied"]), (0, manifest["totals"]["messages"]))

        # Sent: deleted, created again, and two of its messages put back by hand (one with a
        # Message-ID, one without); Trash: deleted and created again, empty; Archive/2023:
        # deleted.
        sent = self.source_messages("Sent")
        kept = [m for m in sent if b"Subject: Re: Budget 2019" in m[2]
                or b"Subject: Sent without Message-ID" in m[2]]
        self.assertEqual(len(kept), 2)
        with self.dst.imap() as imap:
            for name in ("Sent", "Trash", "Archive/2023"):
                self.assertEqual(imap.delete('"%s"' % name)[0], "OK", name)
            for name in ("Sent", "Trash"):
                self.assertEqual(imap.create('"%s"' % name)[0], "OK", name)
            for flags, date, raw in kept:
                self.assertEqual(imap.append("Sent", flags, date, raw)[0], "OK")

        # --retry-errors touches only failed messages: it says so and leaves the re-match to
        # the next full run (which must still see the change).
        retried = self.migrate_json(self.src, self.dst, state, self.WINDOW + ["--retry-errors"])
        self.assertEqual(retried["copied"], 0, retried)
        notes = " ".join(n for f in retried["folders"] for n in f["notes"])
        self.assertIn("run without --retry-errors", notes)

        second = self.migrate_json(self.src, self.dst, state, self.WINDOW)
        self.assertCountsAddUp(second)
        lost = counts["Sent"] - 2 + counts["Trash"] + counts["Archive/2023"]
        self.assertEqual((second["failed"], second["copied"]), (0, lost), second)
        by_source = {f["source"]: f for f in second["folders"]}
        self.assertIn("2 of the source's %d message(s) found there (1 by content)" % counts["Sent"],
                      " ".join(by_source["Sent"]["notes"]))
        for name in ("Trash", "Archive/2023"):
            self.assertEqual(by_source[name]["copied"], counts[name], by_source[name])
        for f in second["folders"]:
            if f["source"] not in ("Sent", "Trash", "Archive/2023"):
                self.assertTrue(f["up_to_date"], f)
        oracle = self.oracle_verify(self.dst, manifest)
        self.assertEqual(oracle.returncode, 0, oracle.stdout + oracle.stderr)
        res = self.mailferry("verify", self.src, self.dst, ["--deep"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("Result: identical", res.stdout)

        third = self.migrate_json(self.src, self.dst, state, self.WINDOW)
        self.assertEqual(third["copied"], 0, third)
        self.assertTrue(all(f["up_to_date"] for f in third["folders"]), third["folders"])

        # A server that rewrote what it kept (a header added, so another size): the copy is
        # still found by its Message-ID, which only it carries, and not doubled.
        drafts = self.source_messages("Drafts")
        flags, date, raw = next(m for m in drafts if b"Subject: Draft with keyword" in m[2])
        with self.dst.imap() as imap:
            self.assertEqual(imap.delete("Drafts")[0], "OK")
            self.assertEqual(imap.create("Drafts")[0], "OK")
            rewritten = b"X-Stored-By: a rewriting server\r\n" + raw
            self.assertEqual(imap.append("Drafts", flags, date, rewritten)[0], "OK")
        fourth = self.migrate_json(self.src, self.dst, state, self.WINDOW)
        self.assertEqual((fourth["failed"], fourth["copied"]), (0, counts["Drafts"] - 1), fourth)
        dumped = {f["name"]: f for f in self.dump(self.dst)["folders"]}
        self.assertEqual(len(dumped["Drafts"]["messages"]), counts["Drafts"], dumped["Drafts"])


class SourceRewrittenAndRenumbered(PairTestCase):
    """A source that renumbered its folder (new UIDVALIDITY) and rebuilt a message on the way
    (ProtonMail Bridge after an update, QUIRKS.md: other bytes, so another size, same date):
    the message is still known by its Message-ID, which only it carries, and not copied a
    second time. A message replaced under the same Message-ID with another date (a draft
    edited and saved again) is a new message: copied, never taken for the old one."""

    WINDOW = []

    def rewrite(self, path, prefix, keep_date):
        """Dovecot's Maildir: the size it reads from the file name is dropped so it reads the
        new one; the internal date is the file's mtime."""
        with open(path, "rb") as f:
            raw = f.read()
        self.assertIn(b"Message-ID:", raw)
        st = os.stat(path)
        base, _, info = os.path.basename(path).partition(":")
        os.unlink(path)
        new_path = os.path.join(os.path.dirname(path), base.split(",")[0] + ":" + info)
        with open(new_path, "wb") as f:
            f.write(prefix + raw)
        if keep_date:
            os.utime(new_path, (st.st_atime, st.st_mtime))
        else:
            os.utime(new_path, (st.st_atime, st.st_mtime + 86400))

    def test_a_rebuilt_message_is_not_copied_again_an_edited_one_is(self):
        manifest = self.seed(self.src, "simple")
        state = os.path.join(self.run_dir, "state.db")
        first = self.migrate_json(self.src, self.dst, state, self.WINDOW)
        self.assertEqual((first["failed"], first["copied"]), (0, manifest["totals"]["messages"]))
        inbox = self.src.maildir()
        self.assertTrue(self.src.wait_until_idle())
        files = sorted(glob.glob(os.path.join(inbox, "cur", "*")))
        self.assertGreaterEqual(len(files), 2)
        self.rewrite(files[0], b"X-Rebuilt-By: bridge\n", keep_date=True)
        self.rewrite(files[1], b"X-Edited: saved again a day later\n", keep_date=False)
        # The uidlist and index gone: the folder gets a new UIDVALIDITY.
        for gone in glob.glob(os.path.join(inbox, "dovecot-uidlist")) + \
                glob.glob(os.path.join(inbox, "dovecot.index*")):
            os.unlink(gone)
        again = self.migrate_json(self.src, self.dst, state, self.WINDOW)
        self.assertEqual((again["failed"], again["copied"]), (0, 1), again)
        inbox_report = [f for f in again["folders"] if f["source"] == "INBOX"][0]
        self.assertTrue(any("UIDVALIDITY" in n for n in inbox_report["notes"]), inbox_report)
        dumped = {f["name"]: f for f in self.dump(self.dst, bodies=True)["folders"]}
        inbox_count = [f["messages"] for f in manifest["folders"] if f["name"] == "INBOX"][0]
        self.assertEqual(len(dumped["INBOX"]["messages"]), inbox_count + 1)


class DestinationFolderReplacedInWindows(DestinationFolderReplaced):
    """The same with every folder bigger than a listing window of one message: the re-match
    lists the destination's copies and the source a window at a time, writes its records in
    one transaction from compact pairs, and the copy that follows goes window by window,
    counting what the re-match found as copied (folder_copier.h rematchSource)."""

    WINDOW = ["--listing-window", "1"]


class SourceRewrittenAndRenumberedInWindows(SourceRewrittenAndRenumbered):
    """The same with a listing window of 2: the records of the earlier UIDVALIDITY are read one
    at a time into the compact index, the source listed a window at a time."""

    WINDOW = ["--listing-window", "2"]


class ErrorsAndSecurity(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.start_server("src", "slash")
        cls.dst = cls.start_server("dst", "slash")
        cls.state = os.path.join(cls.run_dir, "state.db")

    def setUp(self):
        if not getattr(ErrorsAndSecurity, "seeded", False):
            self.seed(self.src, "simple", user="carol", extra=["--count", "10"])
            ErrorsAndSecurity.seeded = True

    def run_carol(self, args=(), **kw):
        return self.mailferry("migrate", self.src, self.dst, ["--state", self.state] + list(args),
                              user="carol", **kw)

    def test_wrong_password(self):
        res = self.run_carol(passwords={"from": "not-the-password"})
        self.assertEqual(res.returncode, 3, res.stderr)
        self.assertIn("refused", res.stderr)
        self.assertIn("password", res.stderr)
        self.assertNotIn("not-the-password", res.stderr + res.stdout)

    def test_closed_port(self):
        port = self.free_ports(1)[0]
        env = dict(os.environ, MAILFERRY_FROM_PASSWORD="x", MAILFERRY_TO_PASSWORD="y")
        res = subprocess.run([MAILFERRY, "migrate", "--from", "imaps://carol@127.0.0.1:%d" % port,
                              "--to", self.dst.url("carol"), "--state", self.state],
                             env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 3, res.stderr)
        self.assertIn("refused", res.stderr)
        self.assertIn(str(port), res.stderr)

    def test_untrusted_certificate(self):
        env = dict(os.environ, MAILFERRY_FROM_PASSWORD=self.src.password("carol"),
                   MAILFERRY_TO_PASSWORD=self.dst.password("carol"))
        res = subprocess.run([MAILFERRY, "migrate", "--from", self.src.url("carol"),
                              "--to", self.dst.url("carol"), "--state", self.state],
                             env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 3, res.stderr)
        self.assertIn("self-signed", res.stderr.replace("self signed", "self-signed"))
        self.assertIn("--ca-file", res.stderr)

    def test_usage_error(self):
        res = subprocess.run([MAILFERRY, "migrate", "--from", "ftp://x", "--to", "imaps://y@z"],
                             capture_output=True, text=True, stdin=subprocess.DEVNULL,
                             env=dict(os.environ, MAILFERRY_FROM_PASSWORD="a",
                                      MAILFERRY_TO_PASSWORD="b"))
        self.assertEqual(res.returncode, 2, res.stderr)

    def test_zz_state_file_still_usable_and_starttls_works(self):
        # After the failures above, the same state file drives a normal run (over STARTTLS).
        summary = self.migrate_json(self.src, self.dst, self.state, user="carol", tls=False)
        self.assertEqual(summary["copied"], 10)
        self.assertEqual(self.migrate_json(self.src, self.dst, self.state, user="carol",
                                           tls=False)["copied"], 0)

    def test_password_with_quotes_and_backslash(self):
        self.seed(self.src, "simple", user="bob", extra=["--count", "3"])
        summary = self.migrate_json(self.src, self.dst, os.path.join(self.run_dir, "bob.db"),
                                    user="bob")
        self.assertEqual(summary["copied"], 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
