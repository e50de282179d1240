"""Big folders are split between connections (real Dovecot): `mailferry migrate` lets a worker
with no folder left take over the upper part of a big folder another worker is copying, on its
own connection pair (sync/folder_shares.h), so a mailbox whose only big folder is INBOX still
uses every connection --parallel allows. This module proves, against real servers:
- a single 3,000-message INBOX with --parallel 3 is copied over 3 connections to each server
  (Dovecot's own log counts one imap-login "Login:" line per connection), the folder's report
  says so, the destination numbers the parts' messages interleaved, and the copy is exact
  (the oracle, `verify --deep`) and complete (a re-run copies nothing);
- --in-order copies the same mailbox over one connection per server, without the note, and the
  destination's UIDs follow the source's order exactly;
- kill -9 while the parts are being copied, several times at random points (seeded by
  $MF_TEST_SEED), each next run started as soon as the killed one is dead (as test_migrate's
  kill test does), then a final run: nothing is lost or duplicated although two connections'
  appends interleave in the destination folder (the full corpus, whose odd messages, without
  Message-ID or sharing one, lie in the upper part of INBOX); at least one kill must have hit a
  split copy in flight (the destination held some but not all of INBOX, not a prefix of it);
- a helper's destination connection dropped mid-part (tests/tools/fault_proxy.py cuts the
  destination's second connection: the first is the run's listing connection, so the second is
  a helper's): the folder's worker retries the folder and everything lands exactly once.
- every connection slot held by "other runs" (the test holds the lock files): the run starts
  on one connection pair; once the slots are released it adds a worker at its next batch
  boundary, which takes over part of INBOX (no folder boundary needed).
- a folder bigger than --listing-window is listed and copied a window at a time (memory
  follows the window, not the folder): split between connections all the same, exact, and a
  re-run with the default window copies nothing; a run whose source connection is cut in the
  middle of the folder has saved its watermark at the last window it finished (the state file
  says so), and the next run copies the rest: nothing lost, nothing twice; --dry-run plans
  every window.
- by default whether a split pays is measured (sync/split_judge.h): behind a destination
  that holds back each connection (fault_proxy --trickle) the split is kept; behind one
  whose limit all connections share (--trickle-total) the folder goes back to one
  connection after the trial, the helpers stop and the folder's own connection copies what
  they left: exact both times.
Every migration goes to a destination user of its own, so the tests are independent.
"""

import fcntl
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

from mftest import MAILFERRY, ServerTestCase

BIG = 3000  # one worker per 1,000 new messages: --parallel 3 gives 3 workers (sync/migrator.h)
PARALLEL = ["--parallel", "3"]
# These tests are about how a split folder is copied: on loopback a split is not always faster,
# and by default the run would go back to one connection (split_judge.h, tests 8 and 9).
SPLIT = PARALLEL + ["--split-always"]
SPLIT_NOTE = "copied over 3 connections at once (split by UID range)"
SEED = int(os.environ.get("MF_TEST_SEED", "42"))


class SplitFolders(ServerTestCase):
    """Source alice: one folder, INBOX, of 3,000 messages ("add" profile). Source bob: the full
    corpus with 3,000 ordinary messages in INBOX (odd messages included). One destination
    server, one user per test (the fault test gets a server of its own behind the proxy)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.start_server("src", "slash")
        cls.dst = cls.start_server("dst", "slash")
        cls.manifests = {}
        # Connection slots of our own (cli/connection_slots.h): no other run on this machine
        # shares these servers' pools, and none of ours outlives its test.
        cls.runtime = tempfile.mkdtemp(prefix="mf-xdg-", dir=cls.run_dir)
        os.chmod(cls.runtime, 0o700)

    def manifest(self, user):
        if user not in self.manifests:
            if user == "alice":
                extra = ["--count", str(BIG)]
                self.manifests[user] = self.seed(self.src, "add", user, extra)
            else:
                extra = ["--count", str(BIG), "--big-mb", "1"]
                self.manifests[user] = self.seed(self.src, "full", user, extra)
        return self.manifests[user]

    # -- helpers ----------------------------------------------------------------------------

    def argv_env(self, src_user, dst_user, state, args, dst=None, dst_url=None, src_url=None):
        dst = dst or self.dst
        env = dict(os.environ, XDG_RUNTIME_DIR=self.runtime,
                   MAILFERRY_FROM_PASSWORD=self.src.password(src_user),
                   MAILFERRY_TO_PASSWORD=dst.password(dst_user))
        argv = [MAILFERRY, "migrate", "--from", src_url or self.src.url(src_user),
                "--to", dst_url or dst.url(dst_user), "--from-ca-file", self.src.ca_file,
                "--to-ca-file", dst.ca_file, "--state", state] + list(args)
        return argv, env

    def migrate(self, src_user, dst_user, args=(), dst=None, dst_url=None, expect_exit=0,
                src_url=None, state_name=None):
        """One `migrate --json` (state file per user pair); returns (summary, notices,
        context for failure messages). A --dry-run sees messages and copies none: its
        counts are not checked to add up."""
        state = os.path.join(self.run_dir,
                             state_name or "state-%s-%s.db" % (src_user, dst_user))
        argv, env = self.argv_env(src_user, dst_user, state, ["--json"] + list(args), dst,
                                  dst_url, src_url)
        res = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300,
                             stdin=subprocess.DEVNULL)
        context = "%s\nexit %d\nstdout:%s\nstderr:%s" % (
            " ".join(argv[1:]), res.returncode,
            "\n".join(l for l in res.stdout.splitlines() if '"progress"' not in l)[-4000:],
            res.stderr[-3000:])
        self.assertEqual(res.returncode, expect_exit, context)
        events = [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]
        summary = [e for e in events if e.get("event") == "summary"]
        self.assertEqual(len(summary), 1, context)
        notices = [e.get("text", "") for e in events if e.get("event") == "notice"]
        if "--dry-run" not in args:
            self.assertCountsAddUp(summary[0])
        return summary[0], notices + summary[0].get("notices", []), context

    def inbox(self, summary):
        found = [f for f in summary["folders"] if f["source"] == "INBOX"]
        self.assertEqual(len(found), 1, summary)
        return found[0]

    def inbox_messages(self, server, user):
        """The INBOX of server/user as (Message-ID, X-Mailferry-Seq) in UID order."""
        folders = [f for f in self.dump(server, user)["folders"] if f["name"] == "INBOX"]
        if not folders:
            return []
        return [(m["message_id"], m["seq"])
                for m in sorted(folders[0].get("messages", []), key=lambda m: m["uid"])]

    def inbox_files(self, server, user):
        """The files of user's INBOX on the server's disk (Maildir cur/ and new/): the
        messages Dovecot has committed, seen at once and without a login."""
        root = server.maildir(user)
        names = []
        for sub in ("cur", "new"):
            try:
                names += os.listdir(os.path.join(root, sub))
            except FileNotFoundError:
                pass
        return names

    def seqs_of_files(self, server, user, names):
        """X-Mailferry-Seq of the messages in `names` (an inbox_files() snapshot). Read later:
        a file may have moved from new/ to cur/ or had its flags suffix changed since."""
        root = server.maildir(user)
        where = {}
        for sub in ("cur", "new"):
            for name in os.listdir(os.path.join(root, sub)):
                where[name.split(":")[0]] = os.path.join(root, sub, name)
        seqs = []
        for name in names:
            with open(where[name.split(":")[0]], "rb") as f:
                head = f.read().split(b"\r\n\r\n", 1)[0]
            m = re.search(rb"(?im)^X-Mailferry-Seq: *(\d+)", head)
            self.assertIsNotNone(m, name)
            seqs.append(int(m.group(1)))
        return seqs

    def assertExact(self, src_user, dst_user, dst=None, context=""):
        """The independent oracle (bytes, flags, dates, counts: a duplicate is an extra
        message) and mailferry's own deep verify."""
        dst = dst or self.dst
        oracle = self.oracle_verify(dst, self.manifest(src_user), user=dst_user)
        err = oracle.stderr if len(oracle.stderr) < 5000 else \
            oracle.stderr[:3000] + "\n[...]\n" + oracle.stderr[-1000:]
        self.assertEqual(oracle.returncode, 0, oracle.stdout + err + "\n" + context)
        res = self.mailferry("verify", self.src, dst, ["--deep"], user=src_user,
                             dst_user=dst_user)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr + "\n" + context)
        self.assertIn("Result: identical", res.stdout)

    def assertRerunCopiesNothing(self, src_user, dst_user, dst=None, dst_url=None):
        again, _, context = self.migrate(src_user, dst_user, PARALLEL, dst=dst, dst_url=dst_url)
        self.assertEqual(again["copied"], 0, context)
        self.assertEqual(again["failed"], 0, context)

    # -- tests ------------------------------------------------------------------------------

    def test_1_one_big_folder_is_copied_over_three_connections(self):
        manifest = self.manifest("alice")
        self.assertEqual(manifest["totals"]["messages"], BIG)
        before = (self.src.logins("alice"), self.dst.logins("alice"))
        # Batches of 100: each worker starts its part by taking two batches at once (one
        # saving, one streaming), and with the default 500 the two first workers would hold
        # all but 1,000 of these 3,000 tiny messages before the third is logged in; a part is
        # only split off while 1,000 are unstarted (sync/folder_shares.h).
        summary, _, context = self.migrate("alice", "alice",
                                           SPLIT + ["--batch-messages", "100"])
        connections = (self.src.logins("alice") - before[0],
                       self.dst.logins("alice") - before[1])
        self.assertEqual(summary["copied"], BIG, context)
        self.assertEqual(summary["failed"], 0, context)
        self.assertEqual(summary["folders_failed"], 0, context)
        inbox = self.inbox(summary)
        self.assertEqual(inbox["copied"], BIG, context)
        self.assertIn(SPLIT_NOTE, inbox["notes"], context)
        self.assertEqual(connections, (3, 3), context)
        self.assertExact("alice", "alice")
        # Parts appended at once are numbered interleaved: the destination's UID order is not
        # the source's (it is with --in-order, test_2), yet it holds each message once.
        source_order = self.inbox_messages(self.src, "alice")
        copied_order = self.inbox_messages(self.dst, "alice")
        self.assertEqual(len(source_order), BIG)
        self.assertEqual(sorted(copied_order), sorted(source_order))
        self.assertNotEqual(copied_order, source_order)
        self.assertRerunCopiesNothing("alice", "alice")

    def test_2_in_order_copies_each_folder_over_one_connection_in_source_order(self):
        self.manifest("alice")
        before = (self.src.logins("alice"), self.dst.logins("bob"))
        summary, _, context = self.migrate("alice", "bob", PARALLEL + ["--in-order"])
        connections = (self.src.logins("alice") - before[0],
                       self.dst.logins("bob") - before[1])
        self.assertEqual(summary["copied"], BIG, context)
        self.assertEqual(summary["failed"], 0, context)
        self.assertEqual(connections, (1, 1), context)
        notes = [n for f in summary["folders"] for n in f["notes"]]
        self.assertFalse([n for n in notes if "connections at once" in n], context)
        self.assertExact("alice", "bob")
        source_order = self.inbox_messages(self.src, "alice")
        self.assertEqual(len(source_order), BIG)
        self.assertEqual(len({mid for mid, _ in source_order}), BIG)  # unique Message-IDs
        self.assertEqual(self.inbox_messages(self.dst, "bob"), source_order)

    def test_3_kill_9_during_a_split_copy_loses_and_duplicates_nothing(self):
        manifest = self.manifest("bob")
        source_inbox = sorted((m for m in manifest["messages"]
                               if m["folder"] == "INBOX" and not m["deleted"]),
                              key=lambda m: m["uid"])
        source_seqs = [m["seq"] for m in source_inbox]
        total = len(source_seqs)
        self.assertGreaterEqual(total, BIG)
        self.assertTrue([m for m in source_inbox[-10:] if m["message_id"] is None])
        rng = random.Random(SEED)
        state = os.path.join(self.run_dir, "state-bob-carol.db")
        argv, env = self.argv_env("bob", "carol", state,
                                  SPLIT + ["--batch-messages", "100", "--progress", "none"])
        # Like test_migrate's kill test, each run starts as soon as the one before is dead:
        # the killed sessions' last appends may still be landing (recovery must wait for
        # them). What the destination held at each kill is only listed then, read after.
        snapshots = []  # INBOX files on the destination when the run started, at its kill
        for _ in range(4):
            have = len(self.inbox_files(self.dst, "carol"))
            if have >= total:
                break
            # A random point of the rest of INBOX, seen on the destination's disk, then a
            # random moment more.
            remaining = total - have
            target = have + rng.randint(max(1, remaining // 10), max(1, remaining * 6 // 10))
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while proc.poll() is None and len(self.inbox_files(self.dst, "carol")) < target:
                if time.monotonic() > deadline:
                    proc.kill()
                    proc.wait()
                    self.fail("migrate made no progress towards %d messages in 120 s" % target)
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.05))
            if proc.poll() is not None:
                self.assertEqual(proc.returncode, 0)
                continue  # finished before the moment came
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            snapshots.append((have, self.inbox_files(self.dst, "carol")))
        summary, _, context = self.migrate("bob", "carol", SPLIT + ["--batch-messages", "100"])
        # At least one kill hit a split copy in flight: INBOX partly copied, and not as a
        # prefix of the source's order (a second connection was appending the upper part).
        kills = []  # (INBOX messages when the run started, at its kill, a prefix?, duplicates)
        for have, names in snapshots:
            seqs = self.seqs_of_files(self.dst, "carol", names)
            kills.append((have, len(seqs), set(seqs) == set(source_seqs[:len(seqs)]),
                          len(seqs) - len(set(seqs))))
        self.assertTrue([k for k in kills if k[0] < k[1] < total and not k[2]], kills)
        context += "\nkills (INBOX messages at the run's start, at its kill, prefix?, " \
                   "duplicates): %s" % kills
        self.assertEqual(summary["failed"], 0, context)
        self.assertEqual(summary["folders_failed"], 0, context)
        self.assertExact("bob", "carol", context=context)
        self.assertEqual([k for k in kills if k[3]], [], context)
        self.assertRerunCopiesNothing("bob", "carol")

    def test_4_a_helper_connection_dropped_mid_part_costs_nothing(self):
        self.manifest("alice")
        dst = self.start_server("dst-fault", "slash")
        self.addCleanup(self.stop_server, "dst-fault")
        # The destination's connection 2 (a helper's: connection 1 is the run's listing
        # connection, which the folder's own worker goes on with) is cut once 150 KB of its
        # APPENDs have gone through, well inside its part (~1,000 messages of ~500 bytes).
        proxy = self.proxy("dst", dst, ["--direction", "c2s", "--cut-after", "150000",
                                        "--every", "2", "--faulty-connections", "1"])
        summary, notices, context = self.migrate(
            "alice", "dave",
            SPLIT + ["--batch-messages", "100", "--retry-backoff", "0.2", "--timeout", "10"],
            dst=dst, dst_url=proxy.url("dave"))
        stats = proxy.stop()  # its last stats write happens on SIGTERM
        context += "\nproxy stats: %s\nproxy log: %s" % (json.dumps(stats), proxy.log())
        self.assertEqual(stats["faults"]["cut"], 1, context)
        self.assertEqual([e["connection"] for e in stats["events"] if e["fault"] == "cut"], [2],
                         context)
        self.assertGreaterEqual(stats["connections"], 4, context)  # the retry's reconnect
        self.assertEqual(summary["failed"], 0, context)
        self.assertEqual(summary["folders_failed"], 0, context)
        inbox = self.inbox(summary)
        self.assertEqual(inbox["error"], "", context)
        # Into a fresh destination: every message copied by this run or found there by the
        # retry's recovery (stored by the helper before its connection broke).
        self.assertEqual(inbox["copied"] + inbox["already_copied"], BIG, context)
        self.assertTrue([n for n in notices if "reconnect" in n.lower()], context)
        self.assertExact("alice", "dave", dst=dst, context=context)
        # The state is keyed by user and host: a direct re-run finds everything done.
        self.assertRerunCopiesNothing("alice", "dave", dst=dst)


    def test_5_connections_freed_by_other_runs_help_the_big_folder_it_is_copying(self):
        """Every connection slot held by "other runs" (this test holds the lock files, as
        test_shared_connections does): the run starts on one connection pair and says so. As
        soon as it says so the slots are released: the run adds a worker at its next batch
        boundary, which takes over part of INBOX (a one-folder run has no folder boundary to
        wait for). The source is read through a proxy that trickles ~400 KB/s per connection,
        so the copy on one connection takes seconds and the release (milliseconds after the
        notice) lands early in it however busy the machine is."""
        self.manifest("alice")
        dst = self.start_server("dst-slots", "slash")
        self.addCleanup(self.stop_server, "dst-slots")
        src = self.proxy("src", self.src, ["--trickle", "400000"])
        slot_dir = os.path.join(self.runtime, "mailferry")
        os.makedirs(slot_dir, mode=0o700, exist_ok=True)
        held = []

        def release():
            while held:
                held.pop().close()  # closing drops the flock

        self.addCleanup(release)
        # A run's pools are keyed by the host and port it connects to: the proxy's, for the
        # source.
        for port in (src.port, dst.info["imaps_port"]):
            for n in range(3):
                f = open(os.path.join(slot_dir, "imap-127.0.0.1-%d.%d" % (port, n)), "a+")
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(f)
        state = os.path.join(self.run_dir, "state-alice-slots.db")
        argv, env = self.argv_env("alice", "alice", state,
                                  ["--json"] + SPLIT + ["--batch-messages", "100"], dst=dst,
                                  src_url=src.url("alice"))
        before = (self.src.logins("alice"), dst.logins("alice"))
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)
        events = []
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            events.append(event)
            if event.get("event") == "notice" and "copying over 1 of" in event.get("text", ""):
                release()
        stderr = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        self.assertEqual(proc.wait(timeout=300), 0, stderr[-3000:])
        connections = (self.src.logins("alice") - before[0],
                       dst.logins("alice") - before[1])
        summary = [e for e in events if e.get("event") == "summary"]
        self.assertEqual(len(summary), 1, events)
        summary = summary[0]
        context = "connections %s\nnotices %s\nsummary %s" % (
            connections, [e.get("text") for e in events if e.get("event") == "notice"],
            json.dumps(summary)[:3000])
        self.assertEqual(summary["copied"], BIG, context)
        self.assertEqual(summary["failed"], 0, context)
        notices = [e.get("text", "") for e in events if e.get("event") == "notice"]
        self.assertTrue([n for n in notices if "copying over 1 of 3 connections" in n], context)
        self.assertTrue([n for n in notices if "freed up: now copying over" in n], context)
        self.assertGreaterEqual(connections[1], 2, context)
        self.assertEqual(connections[0], connections[1], context)
        self.assertTrue([n for n in self.inbox(summary)["notes"] if "connections at once" in n],
                        context)
        self.assertExact("alice", "alice", dst=dst, context=context)


    def test_6_a_folder_bigger_than_the_listing_window_is_copied_a_window_at_a_time(self):
        self.manifest("alice")
        dst = self.start_server("dst-windows", "slash")
        self.addCleanup(self.stop_server, "dst-windows")
        # 3,000 messages: windows of 2,000 and 1,000; a part is split off a window while 1,000
        # of its messages are unstarted (sync/folder_shares.h).
        window = ["--listing-window", "2000"]
        # A state file of its own: test_1's (alice to alice on this host) would apply here.
        state = "state-windows.db"
        planned, _, context = self.migrate("alice", "alice", ["--dry-run"] + window, dst=dst,
                                           state_name=state)
        self.assertEqual(self.inbox(planned)["planned_messages"], BIG, context)
        self.assertEqual(planned["copied"], 0, context)
        summary, _, context = self.migrate(
            "alice", "alice", SPLIT + ["--batch-messages", "100"] + window, dst=dst,
            state_name=state)
        self.assertEqual(summary["copied"], BIG, context)
        self.assertEqual(summary["failed"], 0, context)
        self.assertEqual(summary["folders_failed"], 0, context)
        inbox = self.inbox(summary)
        self.assertEqual(inbox["copied"], BIG, context)
        self.assertEqual(inbox["planned_messages"], BIG, context)
        # A window big enough is still shared between the run's connections (one note for
        # the folder, whichever windows were split).
        split = [n for n in inbox["notes"] if "connections at once" in n]
        self.assertEqual(len(split), 1, context)
        self.assertRegex(split[0], r"^copied over [23] connections at once \(split by UID range\)$")
        self.assertExact("alice", "alice", dst=dst, context=context)
        again, _, context = self.migrate("alice", "alice", PARALLEL, dst=dst, state_name=state)
        self.assertEqual(again["copied"], 0, context)
        self.assertEqual(again["failed"], 0, context)
        self.verify_in_windows(dst)

    def verify_inbox(self, dst, args):
        res = self.mailferry("verify", self.src, dst, ["--json", "--no-state"] + args,
                             user="alice", dst_user="alice")
        report = json.loads(res.stdout.splitlines()[-1])
        inbox = [f for f in report["folders"] if f["source"] == "INBOX"]
        self.assertEqual(len(inbox), 1, res.stdout)
        return res.returncode, inbox[0], res.stdout + res.stderr

    def verify_in_windows(self, dst):
        """verify lists a folder bigger than its --listing-window a window at a time (with
        --deep, reads it so too) and finds the same differences as with the folder listed
        whole: its lines come from listing the differing messages again."""
        for deep in ([], ["--deep"]):
            code, inbox, out = self.verify_inbox(dst, ["--listing-window", "700"] + deep)
            self.assertEqual(code, 0, out)
            self.assertTrue(inbox["identical"], out)
            self.assertEqual((inbox["source_messages"], inbox["destination_messages"]),
                             (BIG, BIG), out)
        # Three differences on the destination: a copy expunged (missing), a keyword added
        # (flags), a message no source folder holds (extra).
        conn = dst.imap("alice")
        try:
            conn.select("INBOX")
            typ, data = conn.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            self.assertEqual(typ, "OK")
            ids = {}
            for item in data:
                if not isinstance(item, tuple):
                    continue
                uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
                found = re.search(rb"<[^>]+>", item[1])
                if found:
                    ids.setdefault(found.group(0).decode(), []).append(uid)
            unique = sorted((uids[0], mid) for mid, uids in ids.items() if len(uids) == 1)
            self.assertGreater(len(unique), 2000)
            (gone_uid, gone_id), (flag_uid, flag_id) = unique[10], unique[2500]
            conn.uid("STORE", str(gone_uid), "+FLAGS.SILENT", "(\\Deleted)")
            conn.expunge()
            conn.uid("STORE", str(flag_uid), "+FLAGS.SILENT", "($Verified)")
            extra_id = "<extra-%d@windows.mailferry.test>" % SEED
            conn.append("INBOX", None, None,
                        ("From: x@example.test\r\nMessage-ID: %s\r\nSubject: extra\r\n\r\n"
                         "not from the source\r\n" % extra_id).encode())
        finally:
            conn.logout()
        whole = None
        for args in (["--listing-window", "700"], [], ["--listing-window", "700", "--deep"]):
            code, inbox, out = self.verify_inbox(dst, args)
            self.assertEqual(code, 1, out)  # differences
            self.assertEqual((inbox["source_messages"], inbox["destination_messages"]),
                             (BIG, BIG), out)
            self.assertEqual(len(inbox["missing"]), 1, out)
            self.assertIn(gone_id, inbox["missing"][0], out)
            self.assertEqual(len(inbox["extra"]), 1, out)
            self.assertIn(extra_id, inbox["extra"][0], out)
            self.assertEqual(len(inbox["flag_differences"]), 1, out)
            self.assertIn(flag_id, inbox["flag_differences"][0], out)
            self.assertRegex(inbox["flag_differences"][0], r"destination UID %d has \(.*"
                             r"\$verified.*\)$" % flag_uid, out)
            self.assertEqual(inbox["date_differences"], [], out)
            if "--deep" not in args:
                # Listed in windows or whole: the same lines.
                if whole is not None:
                    self.assertEqual(inbox, whole, out)
                whole = inbox

    def test_7_a_run_stopped_mid_folder_resumes_from_the_last_window_it_finished(self):
        manifest = self.manifest("alice")
        uids = sorted(m["uid"] for m in manifest["messages"] if m["folder"] == "INBOX")
        self.assertEqual(len(uids), BIG)
        dst = self.start_server("dst-windows-cut", "slash")
        self.addCleanup(self.stop_server, "dst-windows-cut")
        # The source's only connection (--parallel 1) is cut once ~60% of INBOX's bytes have
        # come through: inside the fourth window of 500 at the earliest, the sixth at the latest.
        cut = manifest["totals"]["bytes"] * 6 // 10
        proxy = self.proxy("src", self.src, ["--cut-after", str(cut), "--faulty-connections", "1"])
        args = ["--parallel", "1", "--batch-messages", "100", "--listing-window", "500",
                "--retries", "0"]
        state = "state-windows-cut.db"  # test_4's alice-dave state is keyed by the same host
        stopped, _, context = self.migrate("alice", "dave", args, dst=dst, state_name=state,
                                           src_url=proxy.url("alice"), expect_exit=1)
        stats = proxy.stop()
        context += "\nproxy stats: %s" % json.dumps(stats)
        self.assertEqual(stats["faults"]["cut"], 1, context)
        self.assertEqual(stopped["folders_failed"], 1, context)
        copied_before = stopped["copied"]
        self.assertTrue(1000 <= copied_before < BIG, "%d copied\n%s" % (copied_before, context))
        with sqlite3.connect(os.path.join(self.run_dir, state)) as db:
            rows = db.execute("SELECT source_uidnext FROM folder_pairs WHERE source_folder = "
                              "'INBOX'").fetchall()
        # The watermark of the last window finished: the first UID of the next one. Listed
        # whole, the folder would have no saved watermark before it ended.
        self.assertEqual(len(rows), 1, context)
        finished = copied_before // 500
        self.assertEqual(rows[0][0], uids[finished * 500], context)
        summary, _, context = self.migrate("alice", "dave", args, dst=dst, state_name=state)
        inbox = self.inbox(summary)
        self.assertEqual(inbox["error"], "", context)
        self.assertEqual(summary["failed"], 0, context)
        # The run lists from the watermark on: what the stopped run copied after it (and what
        # its last appends left landed, found by recovery) is known, nothing is sent twice.
        self.assertEqual(inbox["copied"] + inbox["already_copied"], BIG - finished * 500,
                         context)
        self.assertGreaterEqual(inbox["already_copied"], copied_before - finished * 500, context)
        self.assertExact("alice", "dave", dst=dst, context=context)
        again, _, context = self.migrate("alice", "dave", PARALLEL, dst=dst, state_name=state)
        self.assertEqual(again["copied"], 0, context)
        self.assertEqual(again["failed"], 0, context)


    def judged(self, name, proxy_args):
        """alice's INBOX (3,000 messages) through a proxy in front of a destination of its own,
        split judged (the default); returns (the INBOX report, context)."""
        self.manifest("alice")
        dst = self.start_server(name, "slash")
        self.addCleanup(self.stop_server, name)
        proxy = self.proxy("dst", dst, ["--direction", "c2s"] + proxy_args)
        # Measured on folders bigger than a listing window: 3,000 messages are, with 2,500
        # (the first window big enough to split once one connection's rate is known).
        args = PARALLEL + ["--listing-window", "2500"]
        summary, _, context = self.migrate("alice", "alice", args, dst=dst,
                                           dst_url=proxy.url("alice"),
                                           state_name="state-%s.db" % name)
        self.assertEqual(summary["copied"], BIG, context)
        self.assertEqual(summary["failed"], 0, context)
        self.assertExact("alice", "alice", dst=dst, context=context)
        again, _, context2 = self.migrate("alice", "alice", args, dst=dst,
                                          dst_url=proxy.url("alice"),
                                          state_name="state-%s.db" % name)
        self.assertEqual(again["copied"], 0, context2)
        return self.inbox(summary), context

    def test_8_a_split_that_pays_is_kept(self):
        # Each connection's uploads held to 300 KB/s: three carry three times as much.
        inbox, context = self.judged("dst-judge-pays", ["--trickle", "300000"])
        self.assertEqual([n for n in inbox["notes"] if "one connection" in n], [], context)
        self.assertTrue([n for n in inbox["notes"]
                         if re.match(r"copied over [23] connections at once", n)], context)

    def test_9_a_split_that_does_not_pay_goes_back_to_one_connection(self):
        # 100 KB/s for all the connections together: more of them carry no more. (Low enough
        # that one connection fills it on a busy machine too: where it cannot, more
        # connections are faster, and the split is rightly kept.)
        inbox, context = self.judged("dst-judge-shared", ["--trickle-total", "100000"])
        notes = [n for n in inbox["notes"] if n.startswith("copied over one connection: split "
                                                          "over")]
        self.assertEqual(len(notes), 1, context)
        self.assertEqual([n for n in inbox["notes"] if "connections at once" in n], [], context)


if __name__ == "__main__":
    unittest.main(verbosity=2)
