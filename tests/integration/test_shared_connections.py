"""Runs of mailferry on one machine share --parallel connections per server (real Dovecot).

`mailferry migrate` claims one slot of each server's pool per folder worker: lock files
"<imap|pop3>-<host>-<port>.<n>" in $XDG_RUNTIME_DIR/mailferry held with flock(2)
(cli/connection_slots.h). This test plays "the other runs" by holding those locks itself, and
counts what reaches the servers in Dovecot's own log (one imap-login "Login:" line per
connection):
- nobody else: the run starts every worker its plan asks for (3 folders of 1,000 messages:
  3 connections to each server), and leaves every slot free when it ends;
- every slot held throughout: the run copies one folder at a time on one connection per
  server, says so, and still copies everything exactly;
- slots freed while it runs: it starts another worker at the next folder boundary and says so;
- a runtime directory it cannot trust (mode 0777): it says it runs unshared and opens its
  workers as before;
- a destination that allows one session per user (Dovecot's mail_max_userip_connections = 1):
  the extra workers' logins are refused ([LIMIT]), and the run goes on over its first
  connections, says so once with the server's words and a remedy, and copies everything.
Every migration is checked with the independent oracle (tests/corpus/dump.py --verify).
"""

import fcntl
import json
import os
import shutil
import subprocess
import tempfile

from mftest import MAILFERRY, SeededPairTestCase

FOLDERS, PER_FOLDER = 3, 1000  # 3 workers: one per 1,000 new messages (sync/migrator.h)


class SharedConnections(SeededPairTestCase):
    SEED_COUNT = FOLDERS * PER_FOLDER

    def setUp(self):
        super().setUp()
        self.runtime = tempfile.mkdtemp(prefix="mf-xdg-", dir=self.run_dir)
        self.slot_dir = os.path.join(self.runtime, "mailferry")
        os.mkdir(self.slot_dir, 0o700)
        self.held = []

    def tearDown(self):
        self.release()
        shutil.rmtree(self.runtime, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------

    def pool(self, server):
        return "imap-127.0.0.1-%d" % server.info["imaps_port"]

    def hold_all(self, pools=None, slots=4):
        """Holds every slot of both servers' pools (or of `pools`), as other runs would."""
        for pool in pools or (self.pool(self.src), self.pool(self.dst)):
            for n in range(slots):
                f = open(os.path.join(self.slot_dir, "%s.%d" % (pool, n)), "a+")
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.held.append(f)

    def release(self):
        for f in self.held:
            f.close()  # closing drops the flock
        self.held = []

    def start(self, dst_user, args=(), src_url=None, dst=None):
        dst = dst or self.dst
        env = dict(os.environ, XDG_RUNTIME_DIR=self.runtime,
                   MAILFERRY_FROM_PASSWORD=self.src.password("alice"),
                   MAILFERRY_TO_PASSWORD=dst.password(dst_user))
        state = os.path.join(self.runtime, "state-%s.db" % dst_user)
        argv = [MAILFERRY, "migrate", "--from", src_url or self.src.url("alice"), "--to",
                dst.url(dst_user), "--from-ca-file", self.src.ca_file, "--to-ca-file",
                dst.ca_file, "--state", state, "--json"] + list(args)
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)

    def finish(self, proc, on_event=None):
        """Reads the JSON events as they come; returns (summary, events, stderr)."""
        events = []
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            events.append(event)
            if on_event:
                on_event(event)
        stderr = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        self.assertEqual(proc.wait(timeout=300), 0, stderr[-3000:])
        summary = [e for e in events if e.get("event") == "summary"]
        self.assertEqual(len(summary), 1, events)
        self.assertEqual(summary[0]["copied"], FOLDERS * PER_FOLDER, summary[0])
        self.assertCountsAddUp(summary[0])
        return summary[0], events, stderr

    def migrate(self, dst_user, on_event=None, args=(), src_url=None):
        before = (self.src.logins("alice"), self.dst.logins(dst_user))
        summary, events, stderr = self.finish(self.start(dst_user, args, src_url), on_event)
        connections = (self.src.logins("alice") - before[0],
                       self.dst.logins(dst_user) - before[1])
        res = self.oracle_verify(self.dst, self.manifest, user=dst_user)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        return summary, events, stderr, connections

    def notices(self, events):
        return [e["text"] for e in events if e.get("event") == "notice"]

    def assertAllSlotsFree(self):
        for server in (self.src, self.dst):
            for n in range(4):
                path = os.path.join(self.slot_dir, "%s.%d" % (self.pool(server), n))
                if os.path.exists(path):
                    with open(path, "a+") as f:
                        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises when held

    # -- tests ------------------------------------------------------------------------------

    def test_alone_a_run_opens_every_worker_and_frees_its_slots(self):
        summary, events, _, connections = self.migrate("alice")
        self.assertEqual(connections, (FOLDERS, FOLDERS))
        self.assertFalse([n for n in summary["notices"] if "mailferry runs" in n], summary)
        self.assertAllSlotsFree()

    def test_slots_held_by_other_runs_leave_one_worker(self):
        self.hold_all()
        summary, events, _, connections = self.migrate("bob")
        self.assertEqual(connections, (1, 1))
        said = [n for n in summary["notices"] if "other mailferry runs on this machine" in n]
        self.assertEqual(len(said), 1, summary["notices"])
        self.assertIn("copying over 1 of %d connections to each" % FOLDERS, said[0])
        self.assertFalse([n for n in self.notices(events) if "freed up" in n])

    def test_slots_freed_meanwhile_add_a_worker_at_the_next_folder(self):
        # The source is read through a proxy that trickles ~250 KB/s per connection: a folder
        # (1,000 small messages) then takes about two seconds on one connection, so the release
        # below (milliseconds after the notice) always comes before the first folder boundary.
        # Unthrottled, a busy machine could let two folders go by first, leaving no boundary
        # with two folders to spread over the freed connections.
        src = self.proxy("src", self.src, ["--trickle", "250000"])
        # The run's source pool is keyed by the port it connects to: the proxy's.
        self.hold_all(pools=("imap-127.0.0.1-%d" % src.port, self.pool(self.dst)))

        def on_event(event):
            # Said once the run has started its workers: the next folder boundary finds the
            # slots free.
            if event.get("event") == "notice" and "copying over 1 of" in event.get("text", ""):
                self.release()

        # --in-order: growth at folder boundaries alone. (Without it the first folder's
        # copier may add a worker at a batch boundary, to take over part of it, if the slots
        # are free by then: test_split_folders covers that.)
        summary, events, _, connections = self.migrate("carol", on_event, ["--in-order"],
                                                       src_url=src.url("alice"))
        self.assertEqual(connections, (2, 2))
        self.assertIn(
            "connections to these servers freed up: now copying over 2 connections to each",
            self.notices(events))

    def test_a_server_refusing_extra_connections_leaves_the_run_its_first(self):
        """A destination that allows one IMAP session per user and IP (Dovecot's
        mail_max_userip_connections = 1, as hosts cap connections per account): the extra
        workers' logins are refused, and the run copies everything over the connection it
        has, says so, and exits 0; it neither fails nor skips the folders those workers
        would have taken."""
        capped = self.start_server("dst-capped", "slash",
                                   env={"MF_DOVECOT_MAX_IMAP_CONNECTIONS": "1"})
        self.addCleanup(self.stop_server, "dst-capped")
        proc = self.start("alice", ["--retry-backoff", "0.1"], dst=capped)
        summary, events, stderr = self.finish(proc)
        self.assertEqual((summary["failed"], summary["folders_failed"]), (0, 0), summary)
        said = [n for n in self.notices(events) if "could not open another connection" in n]
        self.assertEqual(len(said), 1, self.notices(events))
        # The server's words, and what to do about them (RFC 5530 [LIMIT]), not "check the
        # password".
        self.assertIn("Maximum number of connections", said[0])
        self.assertIn("close other mail apps connected to this mailbox, or lower --parallel",
                      said[0])
        self.assertNotIn("password", said[0])
        res = self.oracle_verify(capped, self.manifest)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

    def test_an_open_runtime_directory_is_not_trusted(self):
        os.chmod(self.slot_dir, 0o777)
        summary, events, stderr, connections = self.migrate("dave")
        self.assertEqual(connections, (FOLDERS, FOLDERS))
        said = [n for n in summary["notices"] if "does not share its connections" in n]
        self.assertEqual(len(said), 1, summary["notices"])
        self.assertIn("must belong to this user with mode 0700", said[0])
        self.assertIn("does not share its connections", stderr)
        connection_notices = [e for e in events if e.get("kind") == "connections"]
        self.assertEqual(len(connection_notices), 1, events)
