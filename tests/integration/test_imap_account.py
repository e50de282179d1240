"""ImapAccount (src/imap/client) against a real Dovecot IMAP server, at the C++ level.

Starts Dovecot and runs build/src/imap/client/imap_account_integration_test with the server
in its environment: behaviour of real sessions that no fake server shows: the STATUS of a
folder this session has selected must see what other sessions appended since (crash recovery
relies on it; Dovecot answers it from the asking session's own view unless that session
synchronizes first); pipelined STATUS answers land on their own folders; LIST and LSUB sent
together; the measured round trip.
"""

import os
import subprocess

from mftest import REPO, ServerTestCase

BUILD_DIR = os.environ.get("MF_BUILD_DIR", os.path.join(REPO, "build"))
GTEST = os.path.join(BUILD_DIR, "src", "imap", "client", "imap_account_integration_test")


class ImapAccountAgainstDovecot(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.start_server("imap", "slash")

    def test_imap_account_against_dovecot(self):
        self.assertTrue(os.path.exists(GTEST),
                        "build %s first (ninja imap_account_integration_test)" % GTEST)
        env = dict(os.environ,
                   MF_IMAP_TEST_PORT=str(self.server.info["imaps_port"]),
                   MF_IMAP_TEST_CA_FILE=self.server.ca_file,
                   MF_IMAP_TEST_USER="alice",
                   MF_IMAP_TEST_PASSWORD=self.server.password("alice"))
        res = subprocess.run([GTEST, "--gtest_color=no"], env=env, capture_output=True,
                             text=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 0, res.stdout[-4000:] + res.stderr[-2000:])
        # Every test ran against the server; none skipped itself.
        self.assertNotIn("SKIPPED", res.stdout, res.stdout)
        self.assertIn("[  PASSED  ]", res.stdout)
