"""Shared harness for mailferry's integration tests (real Dovecot servers on loopback).

Each test module gets its own run directory (MF_RUN_DIR) so modules can run in parallel under
ctest -j; servers are started by tests/servers/dovecot.sh and stopped by PID in tearDown.
The mailferry binary comes from $MAILFERRY_BIN (set by CTest).
"""

import imaplib
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOVECOT_SH = os.path.join(REPO, "tests", "servers", "dovecot.sh")
CORPUS = os.path.join(REPO, "tests", "corpus")
MAILFERRY = os.environ.get("MAILFERRY_BIN", os.path.join(REPO, "build", "src", "cli", "mailferry"))
FAULT_PROXY = os.path.join(REPO, "tests", "tools", "fault_proxy.py")
# Fault proxies draw every random choice from this seed, so a failure can be replayed exactly.
PROXY_SEED = int(os.environ.get("MF_TEST_SEED", "1"))


class Server:
    """One running Dovecot instance, described by its instance.json."""

    def __init__(self, run_dir, name, info):
        self.run_dir = run_dir
        self.name = name
        self.info = info

    @property
    def ca_file(self):
        return self.info["ca_file"]

    def url(self, user="alice", tls=True):
        if tls:
            return "imaps://%s@127.0.0.1:%d" % (user, self.info["imaps_port"])
        return "imap://%s@127.0.0.1:%d" % (user, self.info["imap_port"])

    def password(self, user="alice"):
        return self.info["users"][user]

    def imap(self, user="alice"):
        """An imaplib connection over IMAPS, logged in: for a test to set up or look."""
        context = ssl.create_default_context(cafile=self.ca_file)
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.info["imaps_port"], ssl_context=context)
        conn.login(user, self.password(user))
        return conn

    def maildir(self, user="alice"):
        return os.path.join(self.run_dir, "dovecot-" + self.name, "mail", user, "Maildir")

    def wait_until_idle(self, timeout=10.0):
        """Waits until this Dovecot has no IMAP session process left: a client that logged out
        leaves a session that may still be writing its indexes for a moment, and deleting a
        Maildir under it lets it write them back (a folder then missing from LIST). Returns
        False if sessions remain after `timeout` seconds."""
        with open(os.path.join(self.run_dir, "dovecot-" + self.name, "base_dir")) as f:
            base = f.read().strip()
        with open(os.path.join(base, "master.pid")) as f:
            master = f.read().strip()
        deadline = time.monotonic() + timeout
        while True:
            sessions = 0
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open("/proc/%s/stat" % entry) as f:
                        stat = f.read()
                except OSError:
                    continue  # gone meanwhile
                comm = stat[stat.find("(") + 1:stat.rfind(")")]
                ppid = stat[stat.rfind(")") + 2:].split()[1]
                if comm == "imap" and ppid == master:
                    sessions += 1
            if sessions == 0:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def logins(self, user="alice"):
        """IMAP logins of `user` so far, from Dovecot's log (one "Login:" line each)."""
        with open(self.info["log"], errors="replace") as f:
            return len(re.findall(r"imap-login: (?:Info: )?Login: user=<%s>," % re.escape(user),
                                  f.read()))

    def conn_args(self, user="alice"):
        return ["--port", str(self.info["imaps_port"]), "--ssl", "--cafile", self.ca_file,
                "--user", user]


class FaultProxy:
    """One tests/tools/fault_proxy.py process in front of 127.0.0.1:TARGET; stopped by its PID."""

    def __init__(self, run_dir, name, target, args):
        self.stats_path = os.path.join(run_dir, "proxy-%s.json" % name)
        self.err_path = os.path.join(run_dir, "proxy-%s.err" % name)
        self.args = [sys.executable, FAULT_PROXY, "--target", str(target), "--seed",
                     str(PROXY_SEED), "--stats", self.stats_path, "--verbose"] + list(args)
        with open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=err,
                                         stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError("fault_proxy did not start: %r %s" % (line, self.log()))
        self.port = int(line.split()[1])

    def stop(self):
        """Stops the proxy (its final stats write happens on SIGTERM) and returns the stats.
        Stopping twice is harmless (tests stop it to read the stats; cleanup stops it again)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        return self.stats()

    def stats(self):
        with open(self.stats_path) as f:
            return json.load(f)

    def log(self):
        with open(self.err_path) as f:
            return f.read()[-3000:]

    def url(self, user="alice", tls=True):
        return "%s://%s@127.0.0.1:%d" % ("imaps" if tls else "imap", user, self.port)


class ServerTestCase(unittest.TestCase):
    """Starts servers on demand; stops all of them after each test module."""

    run_dir = None
    servers = {}

    @classmethod
    def setUpClass(cls):
        cls.run_dir = tempfile.mkdtemp(prefix="mf-it-")
        os.chmod(cls.run_dir, 0o755)
        cls.servers = {}
        # A mailferry started without --state (verify reads the default state file when it
        # exists) uses this class's own, never one in the home directory of whoever runs the
        # tests.
        os.environ["MAILFERRY_STATE"] = os.path.join(cls.run_dir, "default-state.db")

    @classmethod
    def tearDownClass(cls):
        subprocess.run([DOVECOT_SH, "stop-all"], env=cls.server_env(), check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(cls.run_dir, ignore_errors=True)

    @classmethod
    def server_env(cls):
        env = dict(os.environ)
        env["MF_RUN_DIR"] = cls.run_dir
        return env

    @classmethod
    def free_ports(cls, n):
        out = subprocess.run([DOVECOT_SH, "free-ports", str(n)], env=cls.server_env(),
                             check=True, capture_output=True, text=True).stdout.split()
        return [int(p) for p in out]

    @classmethod
    def start_server(cls, name, flavor="slash", pop3=False, env=None):
        """`env`: extra settings for dovecot.sh (e.g. MF_DOVECOT_MAX_IMAP_CONNECTIONS)."""
        ports = cls.free_ports(4 if pop3 else 2)
        res = subprocess.run([DOVECOT_SH, "start", name, flavor] + [str(p) for p in ports],
                             env=dict(cls.server_env(), **(env or {})), capture_output=True,
                             text=True)
        if res.returncode != 0:
            raise RuntimeError("cannot start dovecot %s: %s %s" % (name, res.stdout, res.stderr))
        with open(os.path.join(cls.run_dir, "dovecot-" + name, "instance.json")) as f:
            info = json.load(f)
        server = Server(cls.run_dir, name, info)
        cls.servers[name] = server
        return server

    @classmethod
    def stop_server(cls, name):
        subprocess.run([DOVECOT_SH, "stop", name], env=cls.server_env(), check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def proxy(self, name, server, args, tls=True):
        """A fault proxy in front of `server`'s IMAPS (or plain IMAP) port for this test."""
        port = server.info["imaps_port" if tls else "imap_port"]
        p = FaultProxy(self.run_dir, "%s-%s" % (self._testMethodName, name), port, args)
        self.addCleanup(p.stop)
        return p

    # -- corpus ---------------------------------------------------------------------------

    def seed(self, server, profile, user="alice", extra=()):
        env = dict(os.environ, MF_SEED_PW=server.password(user))
        res = subprocess.run([sys.executable, os.path.join(CORPUS, "seed.py")] +
                             server.conn_args(user) +
                             ["--password-env", "MF_SEED_PW", "--profile", profile] + list(extra),
                             env=env, capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        return json.loads(res.stdout)

    def oracle_verify(self, server, manifest, user="alice", extra=()):
        """tests/corpus/dump.py --verify: an independent check of the destination."""
        path = os.path.join(self.run_dir, "manifest-%d.json" % id(manifest))
        with open(path, "w") as f:
            json.dump(manifest, f)
        env = dict(os.environ, MF_SEED_PW=server.password(user))
        return subprocess.run([sys.executable, os.path.join(CORPUS, "dump.py")] +
                              server.conn_args(user) +
                              ["--password-env", "MF_SEED_PW", "--verify", path] + list(extra),
                              env=env, capture_output=True, text=True)

    def dump(self, server, user="alice", bodies=False):
        env = dict(os.environ, MF_SEED_PW=server.password(user))
        res = subprocess.run([sys.executable, os.path.join(CORPUS, "dump.py")] +
                             server.conn_args(user) + ["--password-env", "MF_SEED_PW"] +
                             ([] if bodies else ["--no-bodies"]),
                             env=env, capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        return json.loads(res.stdout)

    # -- mailferry ------------------------------------------------------------------------

    def mailferry(self, command, src, dst, args=(), user="alice", dst_user=None,
                  passwords=None, tls=True, timeout=600):
        """Runs `mailferry COMMAND --from SRC --to DST ARGS`; returns CompletedProcess."""
        dst_user = dst_user or user
        env = dict(os.environ)
        env["MAILFERRY_FROM_PASSWORD"] = (passwords or {}).get("from", src.password(user))
        env["MAILFERRY_TO_PASSWORD"] = (passwords or {}).get("to", dst.password(dst_user))
        argv = [MAILFERRY, command, "--from", src.url(user, tls), "--to", dst.url(dst_user, tls),
                "--from-ca-file", src.ca_file, "--to-ca-file", dst.ca_file] + list(args)
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def migrate_json(self, src, dst, state, args=(), expect_exit=0, **kw):
        res = self.mailferry("migrate", src, dst, ["--state", state, "--json"] + list(args), **kw)
        self.assertEqual(res.returncode, expect_exit,
                         "exit %d\nstdout:%s\nstderr:%s" % (res.returncode, res.stdout[-3000:],
                                                            res.stderr[-3000:]))
        lines = [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]
        summary = [l for l in lines if l.get("event") == "summary"]
        self.assertEqual(len(summary), 1, res.stdout)
        return summary[0]

    def assertCountsAddUp(self, summary):
        for f in summary["folders"]:
            self.assertEqual(f["seen"], f["copied"] + f["already_copied"] + f["skipped_deleted"] +
                             f["skipped_vanished"] + f["failed"], f)


class PairTestCase(ServerTestCase):
    """A source and a destination Dovecot ("slash" flavor), started once per class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.start_server("src", "slash")
        cls.dst = cls.start_server("dst", "slash")


class SeededPairTestCase(PairTestCase):
    """PairTestCase, and alice's mailbox on the source seeded once per module with SEED_COUNT
    messages of the "simple" profile (self.manifest: seed.py's manifest, for oracle_verify)."""

    SEED_COUNT = 10

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manifest = None

    def setUp(self):
        if type(self).manifest is None:
            type(self).manifest = self.seed(self.src, "simple",
                                            extra=["--count", str(self.SEED_COUNT)])
