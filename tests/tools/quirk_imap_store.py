"""quirk_imap_store: the in-memory mail store of tests/tools/quirk_imap.py.

Holds: Message (UID, flags, INTERNALDATE string, body bytes), Mailbox (one folder: UIDVALIDITY,
UIDNEXT, messages in UID order, SPECIAL-USE attribute, \\Noselect, subscription) and
sample_fixture(), the default fixture (its format is in quirk_imap.py's docstring).

Contract: plain data with no lock and no quirks of its own. QuirkServer owns every Mailbox,
chooses names and UIDVALIDITY and, with the handlers, applies the quirks (bare-lf bodies,
courier-examine); both change the store only under its lock. Mailbox.add keeps messages sorted by
UID and UIDNEXT above every UID it has seen. sample_fixture(count, seed) returns the same fixture
for the same arguments. Imports only quirk_imap_wire.
"""

import datetime as dt
import random

from quirk_imap_wire import imap_date


# ---- the mail store ---------------------------------------------------------------------------

class Message:
    def __init__(self, uid, flags, internaldate, body):
        self.uid = uid
        self.flags = list(flags)
        self.internaldate = internaldate
        self.body = body

    def has(self, flag):
        return any(f.lower() == flag.lower() for f in self.flags)


class Mailbox:
    def __init__(self, name, uidvalidity, special=None, noselect=False):
        self.name = name
        self.uidvalidity = uidvalidity
        self.uidnext = 1
        self.messages = []
        self.special = special
        self.noselect = noselect
        self.subscribed = False
        self.selected_once = False  # courier-examine

    def add(self, flags, internaldate, body, uid=None):
        uid = uid or self.uidnext
        msg = Message(uid, flags, internaldate, body)
        self.messages.append(msg)
        self.messages.sort(key=lambda m: m.uid)
        self.uidnext = max(self.uidnext, uid + 1)
        return msg


def sample_fixture(count=6, seed=1):
    """A small deterministic mailbox: flags, keywords, nesting, spaces, non-ASCII, Sent."""
    rng = random.Random("quirk-fixture-%d" % seed)
    combos = [[], ["\\Seen"], ["\\Seen", "\\Answered"], ["\\Flagged", "$Label1"], ["Work"],
              ["\\Seen", "\\Draft"], ["\\Seen", "$Forwarded", "Work"]]
    n = [0]

    def msg(folder, flags):
        n[0] += 1
        k = n[0]
        when = dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=rng.choice([-5, 0, 2]))))
        when += dt.timedelta(days=rng.randint(0, 900), seconds=rng.randint(0, 86399))
        lines = ["From: Quirk Sender <sender@example.test>", "To: Alice <alice@example.test>",
                 "Subject: quirk test %d in %s" % (k, folder),
                 "Date: " + when.strftime("%a, %d %b %Y %H:%M:%S %z"),
                 "Message-ID: <quirk-%d-%d@fixture.mailferry.test>" % (seed, k),
                 "X-Mailferry-Seq: %d" % k, "MIME-Version: 1.0",
                 "Content-Type: text/plain; charset=utf-8", ""]
        lines += ["Line %d of message %d: %s" % (i, k, "lorem ipsum " * rng.randint(1, 8))
                  for i in range(rng.randint(2, 12))]
        return {"flags": flags, "internaldate": imap_date(when),
                "body": "\r\n".join(lines) + "\r\n"}

    folders = [("INBOX", None), ("Sent", "\\Sent"), ("Work/Projects", None), ("My Folder", None),
               ("Entwürfe", None)]
    out = []
    for i, (name, special) in enumerate(folders):
        per = count if name == "INBOX" else max(1, count // 3)
        out.append({"name": name, "special": special, "subscribed": True,
                    "uidvalidity": 1000 + i,
                    "messages": [msg(name, combos[(i + j) % len(combos)]) for j in range(per)]})
    return {"format": "mailferry-quirk-fixture/1", "users": {"alice": "alice-pw"},
            "separator": "/", "prefix": "", "folders": out}
