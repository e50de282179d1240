"""Mail that is odd but legal, or merely broken, survives a migration between real Dovecot
servers byte for byte, or fails alone with a reason; the summary's counts always add up."""

import os
import unittest

from mftest import PairTestCase

# Each of these is accepted by Dovecot as a source message (an empty message is not: Dovecot
# says "Can't save a zero byte message"; the empty case is covered with a fake source).
ODD_MESSAGES = {
    "no Message-ID": b"Subject: no id\r\nFrom: a@example.com\r\n\r\nhello\r\n",
    "same Message-ID 1": b"Message-ID: <same@odd>\r\nSubject: one\r\n\r\nfirst body\r\n",
    "same Message-ID 2": b"Message-ID: <same@odd>\r\nSubject: two\r\n\r\nsecond, longer body\r\n",
    "mbox From line": b"From alice@example.com Mon Jan  1 00:00:00 2001\r\nSubject: mbox\r\n\r\nbody\r\n",
    "bare LF": b"Subject: bare lf\nMessage-ID: <lf@odd>\n\nline1\nline2\n",
    "8-bit header": "Subject: Grüße ✓\r\nFrom: Jörg <j@example.com>\r\n\r\nbody\r\n".encode(),
    "NUL in header": b"Subject: nul \x00 here\r\nMessage-ID: <nul@odd>\r\n\r\nbody\r\n",
    "NUL in body": b"Subject: nul body\r\n\r\nbo\x00dy\r\n",
    "0-byte body": b"Subject: zero body\r\nMessage-ID: <zb@odd>\r\n\r\n",
    "header only": b"Subject: header only\r\nMessage-ID: <ho@odd>\r\n",
    "no final CRLF": b"Subject: no final crlf\r\n\r\nbody",
}


class OddMessages(PairTestCase):
    def test_odd_messages_survive_and_counts_add_up(self):
        conn = self.src.imap("carol")
        for name, raw in ODD_MESSAGES.items():
            typ, data = conn.append("INBOX", "(\\Seen)", None, raw)
            self.assertEqual(typ, "OK", (name, data))
        conn.logout()

        state = os.path.join(self.run_dir, "state.db")
        summary = self.migrate_json(self.src, self.dst, state, user="carol")
        self.assertCountsAddUp(summary)
        inbox = [f for f in summary["folders"] if f["source"] == "INBOX"][0]
        self.assertEqual(inbox["seen"], len(ODD_MESSAGES))
        self.assertEqual(inbox["copied"], len(ODD_MESSAGES), inbox)
        res = self.mailferry("verify", self.src, self.dst, ["--deep"], user="carol")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        # Both messages sharing one Message-ID arrived (not deduplicated away).
        self.assertEqual(self.migrate_json(self.src, self.dst, state, user="carol")["copied"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
