"""Far servers (a WAN between mailferry and the servers): real Dovecot behind
tests/tools/fault_proxy.py --rtt-ms, which delays every byte of every connection.

Over a long link a folder costs round trips (create, subscribe, select, list, fetch, the last
append's answer) more than bytes, so mailferry gives every folder with new mail a connection
pair of its own once a server is "far" (its quickest command round trip is 2 ms or more,
sync/migrator.h), however few messages it holds; near servers keep one connection per 1,000 new
messages. Counted in Dovecot's own log (one "Login:" line per connection):
- three folders of ten messages, 60 ms round trips: three connections to each server, and the
  copy is exact (the corpus oracle);
- the same mailbox straight to loopback: one connection to each;
- a no-op re-run over the long link: nothing copied, and no worker connection beyond the first
  (folders without new mail never cost one, far or not).
"""

import json
import os
import subprocess
import unittest

from mftest import MAILFERRY, SeededPairTestCase

RTT_MS = "60"
FOLDERS, PER_FOLDER = 3, 10  # the "simple" profile spreads its messages over 3 folders


class FarServers(SeededPairTestCase):
    SEED_COUNT = FOLDERS * PER_FOLDER

    def run_counted(self, dst_user, src_url=None, dst_url=None, state=None):
        """One migrate --json of alice into dst_user; returns (summary, (source connections,
        destination connections))."""
        before = (self.src.logins("alice"), self.dst.logins(dst_user))
        state = state or os.path.join(self.run_dir, "state-%s.db" % dst_user)
        res = self.mailferry_urls(src_url or self.src.url("alice"),
                                  dst_url or self.dst.url(dst_user), dst_user,
                                  ["--state", state, "--json"])
        self.assertEqual(res.returncode, 0, res.stdout[-3000:] + res.stderr[-3000:])
        summary = [l for l in res.stdout.splitlines() if '"event":"summary"' in l]
        self.assertEqual(len(summary), 1, res.stdout[-3000:])
        summary = json.loads(summary[0])
        self.assertCountsAddUp(summary)
        return summary, (self.src.logins("alice") - before[0],
                         self.dst.logins(dst_user) - before[1])

    def mailferry_urls(self, src_url, dst_url, dst_user, args):
        env = dict(os.environ, MAILFERRY_FROM_PASSWORD=self.src.password("alice"),
                   MAILFERRY_TO_PASSWORD=self.dst.password(dst_user))
        argv = [MAILFERRY, "migrate", "--from", src_url, "--to", dst_url, "--from-ca-file",
                self.src.ca_file, "--to-ca-file", self.dst.ca_file] + list(args)
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)

    def test_far_servers_get_a_connection_per_folder(self):
        src = self.proxy("src", self.src, ["--rtt-ms", RTT_MS])
        dst = self.proxy("dst", self.dst, ["--rtt-ms", RTT_MS])
        state = os.path.join(self.run_dir, "state-far.db")
        summary, connections = self.run_counted("bob", src.url("alice"), dst.url("bob"), state)
        self.assertEqual(summary["copied"], FOLDERS * PER_FOLDER, summary)
        self.assertEqual(connections, (FOLDERS, FOLDERS), summary)
        res = self.oracle_verify(self.dst, self.manifest, user="bob")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

        # Nothing new: every folder is settled by the first connection's (pipelined) STATUS.
        again, connections = self.run_counted("bob", src.url("alice"), dst.url("bob"), state)
        self.assertEqual(again["copied"], 0, again)
        self.assertEqual(connections, (1, 1), again)

    def test_near_servers_keep_one_connection_for_a_small_mailbox(self):
        summary, connections = self.run_counted("carol")
        self.assertEqual(summary["copied"], FOLDERS * PER_FOLDER, summary)
        self.assertEqual(connections, (1, 1), summary)
        res = self.oracle_verify(self.dst, self.manifest, user="carol")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
