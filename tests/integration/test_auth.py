"""Login schemes and admin logins (the authentication issue).

DovecotLogins: against real Dovecot servers (master user admin/admin-pw, separator '*'):
admin logins as 'alice*admin' and by SASL PLAIN authzid migrate alice's mailbox; every
password mechanism is forced in turn with bob's password (spaces, quotes, a backslash); a wrong
admin password and a wrong login format each fail with their own clear error.

FakeServerLogins: behaviour no local server shows, against tests/tools/fake_imap.py scripts
that imitate Exchange, Mirapoint, Kerio, GroupWise, Gmail/Office 365 OAuth; the exact bytes
the client sent are checked. After the login the fake serves an empty INBOX, so each migration
runs to its end against a real Dovecot destination.
"""

import base64
import hashlib
import hmac
import os
import re
import subprocess
import sys
import unittest

from mftest import MAILFERRY, REPO, SeededPairTestCase, ServerTestCase

sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
from fake_imap import EMPTY_MAILBOX, FakeImapServer, Step  # noqa: E402

ADMIN_PW = "admin-pw"


def clean_env(**extra):
    """The environment without any MAILFERRY_* password, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFERRY_")}
    env.update(extra)
    return env


def run_mailferry(argv, env):
    return subprocess.run([MAILFERRY] + argv, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def b64(data):
    return base64.b64encode(data).decode("ascii")


class DovecotLogins(SeededPairTestCase):
    SEED_COUNT = 6

    def fresh_source(self):
        """A Dovecot of its own for a failing login: Dovecot delays the logins from an IP
        after failures (auth penalty, seconds each), so failures get their own server."""
        DovecotLogins.fresh = getattr(DovecotLogins, "fresh", 0) + 1
        return self.start_server("fail%d" % DovecotLogins.fresh, "slash")

    def migrate(self, args, env, user="alice", dst_user=None, state="state.db", extra=(),
                src=None):
        dst_user = dst_user or user
        src = src or self.src
        argv = ["migrate", "--from", src.url(user), "--to", self.dst.url(dst_user),
                "--from-ca-file", src.ca_file, "--to-ca-file", self.dst.ca_file,
                "--state", os.path.join(self.run_dir, state)] + list(args) + list(extra)
        return run_mailferry(argv, env)

    def assertExit(self, res, code):
        self.assertEqual(res.returncode, code,
                         "exit %d\nstdout:%s\nstderr:%s" % (res.returncode, res.stdout[-2000:],
                                                            res.stderr[-2000:]))

    def login_methods(self, server, user):
        """Dovecot's imap-login log lines name the SASL method of each login."""
        with open(server.info["log"], errors="replace") as f:
            return re.findall(r"Login: user=<%s>, method=([A-Z0-9-]+)" % re.escape(user), f.read())

    def test_dovecot_master_user_migrates_alice(self):
        # No MAILFERRY_FROM_PASSWORD at all: the admin's password is enough.
        env = clean_env(MAILFERRY_FROM_ADMIN_PASSWORD=ADMIN_PW,
                        MAILFERRY_TO_PASSWORD=self.dst.password("alice"))
        res = self.migrate(["--from-admin", "admin", "--from-login-format", "dovecot"], env,
                           state="master.db")
        self.assertExit(res, 0)
        oracle = self.oracle_verify(self.dst, self.manifest)
        self.assertEqual(oracle.returncode, 0, oracle.stdout + oracle.stderr)
        self.assertNotIn(ADMIN_PW, res.stdout + res.stderr)

    def test_sasl_authzid_migrates_alice_on_both_sides(self):
        # Source: alice's mailbox through authzid=alice, authcid=admin. Destination: carol's,
        # the same way, so the destination side's options are covered too.
        with open(os.path.join(self.run_dir, "dst-admin-pw"), "w") as f:
            f.write(ADMIN_PW + "\n")
        env = clean_env(MAILFERRY_FROM_ADMIN_PASSWORD=ADMIN_PW)
        res = self.migrate(["--from-admin", "admin", "--from-login-format", "sasl",
                            "--to-admin", "admin", "--to-login-format", "SASL",
                            "--to-admin-password-file", os.path.join(self.run_dir, "dst-admin-pw")],
                           env, dst_user="carol", state="sasl.db")
        self.assertExit(res, 0)
        oracle = self.oracle_verify(self.dst, self.manifest, user="carol")
        self.assertEqual(oracle.returncode, 0, oracle.stdout + oracle.stderr)

    def test_admin_login_format_auto_picks_sasl(self):
        env = clean_env(MAILFERRY_FROM_ADMIN_PASSWORD=ADMIN_PW,
                        MAILFERRY_TO_PASSWORD=self.dst.password("alice"))
        res = self.migrate(["--from-admin", "admin", "--dry-run"], env, state="auto.db")
        self.assertExit(res, 0)

    def test_every_mechanism_with_quotes_and_backslash_in_the_password(self):
        pw = self.src.password("bob")
        self.assertTrue('"' in pw and "\\" in pw and " " in pw, pw)
        env = clean_env(MAILFERRY_FROM_PASSWORD=pw, MAILFERRY_TO_PASSWORD=pw)
        for mech, logged in (("LOGIN", "PLAIN"), ("PLAIN", "PLAIN"), ("AUTH=LOGIN", "LOGIN"),
                             ("CRAM-MD5", "CRAM-MD5"), (None, "PLAIN")):
            with self.subTest(mech=mech):
                before = len(self.login_methods(self.src, "bob"))
                args = ["--dry-run"] + (["--from-auth", mech, "--to-auth", mech] if mech else [])
                res = self.migrate(args, env, user="bob", state="bob.db")
                self.assertExit(res, 0)
                methods = self.login_methods(self.src, "bob")[before:]
                self.assertIn(logged, methods)

    def test_wrong_admin_password_is_a_clear_login_error(self):
        env = clean_env(MAILFERRY_FROM_ADMIN_PASSWORD="not-the-admin-pw",
                        MAILFERRY_TO_PASSWORD=self.dst.password("alice"))
        res = self.migrate(["--from-admin", "admin", "--from-login-format", "dovecot"], env,
                           state="wrong.db", src=self.fresh_source())
        self.assertExit(res, 3)
        self.assertIn("admin login as 'alice*admin'", res.stderr)
        self.assertIn("admin 'admin'", res.stderr)
        self.assertIn("MAILFERRY_FROM_ADMIN_PASSWORD", res.stderr)
        self.assertIn("AUTHENTICATIONFAILED", res.stderr)
        self.assertNotIn("not-the-admin-pw", res.stdout + res.stderr)
        # The same with SASL names the authorization identity.
        res = self.migrate(["--from-admin", "admin", "--from-login-format", "sasl"], env,
                           state="wrong.db", src=self.fresh_source())
        self.assertExit(res, 3)
        self.assertIn("as admin 'admin'", res.stderr)
        self.assertIn("authorization identity 'alice'", res.stderr)

    def test_wrong_login_format_says_which_format_fits(self):
        env = clean_env(MAILFERRY_FROM_ADMIN_PASSWORD=ADMIN_PW,
                        MAILFERRY_TO_PASSWORD=self.dst.password("alice"))
        res = self.migrate(["--from-admin", "admin", "--from-login-format", "exchange",
                            "--from-admin-domain", "CORP"], env, state="format.db",
                           src=self.fresh_source())
        self.assertExit(res, 3)
        self.assertIn("'CORP\\admin\\alice'", res.stderr)
        self.assertIn("login format exchange", res.stderr)
        self.assertIn("looks like Dovecot", res.stderr)
        self.assertIn("--from-login-format dovecot", res.stderr)

    def test_option_mistakes_are_usage_errors(self):
        env = clean_env(MAILFERRY_FROM_PASSWORD="x", MAILFERRY_TO_PASSWORD="x",
                        MAILFERRY_FROM_ADMIN_PASSWORD=ADMIN_PW)
        cases = [
            (["--from-login-format", "dovecot"], "--from-login-format only applies"),
            (["--from-auth", "DIGEST-MD5"], "unknown login mechanism 'DIGEST-MD5'"),
            (["--from-admin", "admin", "--from-login-format", "{user}%{master}"], "{master}"),
            (["--from-admin", "admin", "--from-login-format", "exchange"], "--from-admin-domain"),
        ]
        for args, words in cases:
            with self.subTest(args=args):
                res = self.migrate(args, env, state="usage.db")
                self.assertExit(res, 2)
                self.assertIn(words, res.stderr)
        # No admin password anywhere (and no terminal to ask on).
        res = self.migrate(["--from-admin", "admin"], clean_env(MAILFERRY_TO_PASSWORD="x"),
                           state="usage.db")
        self.assertExit(res, 2)
        self.assertIn("MAILFERRY_FROM_ADMIN_PASSWORD", res.stderr)


class FakeServerLogins(ServerTestCase):
    """Source: a fake_imap.py script on plaintext loopback; destination: a real Dovecot."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dst = cls.start_server("dst", "slash")
        cls.runs = 0

    def run_against(self, fake, args=(), user="alice", env=None):
        FakeServerLogins.runs += 1
        argv = ["migrate", "--from", "imap://%s@127.0.0.1:%d" % (user, fake.port),
                "--to", self.dst.url("alice"), "--to-ca-file", self.dst.ca_file,
                "--allow-plaintext", "--timeout", "20",
                "--state", os.path.join(self.run_dir, "fake-%d.db" % self.runs)] + list(args)
        env = dict(env or {})
        env.setdefault("MAILFERRY_TO_PASSWORD", self.dst.password("alice"))
        return run_mailferry(argv, clean_env(**env))

    def assertRanToTheEnd(self, res, fake, steps):
        self.assertEqual(res.returncode, 0,
                         "exit %d\nstderr:%s\nfake got:%r" % (res.returncode, res.stderr[-2000:],
                                                            fake.received()))
        self.assertEqual(fake.steps_done(), steps, fake.received())
        self.assertEqual(fake.errors, [])

    @staticmethod
    def args_of(unit):
        """A command unit without its tag."""
        return unit.split(b" ", 1)[1]

    # -- LOGINDISABLED, Exchange's "authenticated but not connected" ----------------------

    def test_logindisabled_over_plaintext_sends_no_password(self):
        # Exchange on a plaintext port when plaintext logins are off: LOGINDISABLED, only
        # GSSAPI/NTLM offered.
        greeting = ("* OK [CAPABILITY IMAP4 IMAP4rev1 LOGINDISABLED AUTH=GSSAPI AUTH=NTLM] "
                    "The Microsoft Exchange IMAP4 service is ready. (imitated by fake_imap.py)")
        for forced in ([], ["--from-auth", "LOGIN"]):
            with self.subTest(forced=forced), FakeImapServer(greeting, [], EMPTY_MAILBOX) as fake:
                res = self.run_against(fake, forced, env={"MAILFERRY_FROM_PASSWORD": "s3cret"})
                self.assertEqual(res.returncode, 3, res.stderr)
                self.assertIn("LOGINDISABLED", res.stderr)
                self.assertIn("imaps://", res.stderr)
                if not forced:
                    self.assertIn("GSSAPI, NTLM", res.stderr)
                fake.wait_closed()
                self.assertNotIn(b"s3cret", fake.all_received())
                self.assertFalse(any(re.match(rb"\S+ (LOGIN|AUTHENTICATE)", u)
                                     for u in fake.received()), fake.received())

    def test_exchange_authenticated_but_not_connected_is_a_login_failure(self):
        # Exchange / Office 365 accept AUTHENTICATE PLAIN with a wrong password, then every
        # command fails with "User is authenticated but not connected." (imapsync#32, #411).
        steps = [Step(r"(?P<tag>\S+) AUTHENTICATE PLAIN", "+ "),
                 Step(r"[A-Za-z0-9+/=]+", "{last_tag} OK AUTHENTICATE completed.")]
        greeting = ("* OK [CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN UIDPLUS "
                    "ID LITERAL+] The Microsoft Exchange IMAP4 service is ready.")
        not_connected = [Step(r"(?P<tag>\S+) .*",
                              "{tag} BAD User is authenticated but not connected.")]
        with FakeImapServer(greeting, steps, not_connected) as fake:
            res = self.run_against(fake, env={"MAILFERRY_FROM_PASSWORD": "wrong"})
        self.assertEqual(res.returncode, 3, res.stderr)
        self.assertIn("login as 'alice'", res.stderr)
        self.assertIn("was accepted, but the server then refused", res.stderr)
        self.assertIn("User is authenticated but not connected", res.stderr)
        self.assertIn("Check the user name and password", res.stderr)
        self.assertNotIn("closed", res.stderr)

    # -- admin login names, byte for byte --------------------------------------------------

    def admin_login(self, greeting, login_re, args, user="alice"):
        steps = [Step(login_re, "{tag} OK [CAPABILITY IMAP4rev1 LITERAL+ NAMESPACE] done")]
        with FakeImapServer(greeting, steps, EMPTY_MAILBOX) as fake:
            res = self.run_against(fake, args, user=user,
                                   env={"MAILFERRY_FROM_ADMIN_PASSWORD": ADMIN_PW})
        self.assertRanToTheEnd(res, fake, 1)
        return fake.received()[0]

    def test_exchange_mirapoint_and_template_names_byte_for_byte(self):
        # Servers without AUTH=PLAIN: the LOGIN command, names as quoted strings.
        greeting = "* OK [CAPABILITY IMAP4rev1 LITERAL+ ID] IMAP ready (fake_imap.py)"
        login = r"(?P<tag>\S+) LOGIN .*"
        cases = [
            (["--from-admin", "admin", "--from-login-format", "exchange",
              "--from-admin-domain", "CORP"], "alice", b'LOGIN "CORP\\\\admin\\\\alice" "admin-pw"'),
            (["--from-admin", "admin", "--from-login-format", "exchange-slash",
              "--from-admin-domain", "CORP"], "alice", b'LOGIN "CORP/admin/alice" "admin-pw"'),
            (["--from-admin", "root", "--from-login-format", "mirapoint"], "alice@example.com",
             b'LOGIN "#alice@example.com#root#" "admin-pw"'),
            (["--from-admin", "admin", "--from-login-format", "CORP\\{admin}\\{user}"], "alice",
             b'LOGIN "CORP\\\\admin\\\\alice" "admin-pw"'),
            (["--from-admin", "m", "--from-login-format", "{user}+{admin}@{domain}"],
             "bob@example.com", b'LOGIN "bob@example.com+m@example.com" "admin-pw"'),
            # A user name that already holds the combination is sent as given.
            (["--from-admin", "admin", "--from-login-format", "exchange"], "CORP\\boss\\alice",
             b'LOGIN "CORP\\\\boss\\\\alice" "admin-pw"'),
        ]
        for args, user, expected in cases:
            with self.subTest(args=args):
                unit = self.admin_login(greeting, login, args + ["--from-user", user], user="x")
                self.assertEqual(self.args_of(unit), expected)

    def test_exchange_name_inside_authenticate_plain(self):
        # Exchange 2016 offers AUTH=PLAIN: the combined name is the authcid, no authzid.
        greeting = ("* OK [CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN SASL-IR] "
                    "The Microsoft Exchange IMAP4 service is ready. (imitated by fake_imap.py)")
        unit = self.admin_login(greeting, r"(?P<tag>\S+) AUTHENTICATE PLAIN \S+",
                                ["--from-admin", "admin", "--from-login-format", "exchange",
                                 "--from-admin-domain", "CORP"])
        mech, ir = self.args_of(unit).rsplit(b" ", 1)
        self.assertEqual(mech, b"AUTHENTICATE PLAIN")
        self.assertEqual(base64.b64decode(ir), b"\0CORP\\admin\\alice\0admin-pw")

    # -- passwords with quotes, backslashes, spaces, non-ASCII -------------------------------

    def test_special_passwords_byte_for_byte(self):
        pw = 'p "q" \\ sp\u00e4ce \u20ac'
        raw = pw.encode("utf-8")
        env = {"MAILFERRY_FROM_PASSWORD": pw}
        # LOGIN command without LITERAL+: the 8-bit password goes as a synchronizing literal.
        with FakeImapServer("* OK [CAPABILITY IMAP4rev1] ready (fake_imap.py)",
                            [Step(r"(?P<tag>\S+) LOGIN .*", "{tag} OK done")],
                            EMPTY_MAILBOX) as fake:
            res = self.run_against(fake, env=env)
        self.assertRanToTheEnd(res, fake, 1)
        self.assertEqual(self.args_of(fake.received()[0]),
                         b'LOGIN "alice" {%d}\r\n' % len(raw) + raw)
        # ASCII quotes and backslashes alone go in a quoted string.
        with FakeImapServer("* OK [CAPABILITY IMAP4rev1 LITERAL+] ready (fake_imap.py)",
                            [Step(r"(?P<tag>\S+) LOGIN .*", "{tag} OK done")],
                            EMPTY_MAILBOX) as fake:
            res = self.run_against(fake, env={"MAILFERRY_FROM_PASSWORD": 'a "b" \\ c'})
        self.assertRanToTheEnd(res, fake, 1)
        self.assertEqual(self.args_of(fake.received()[0]), b'LOGIN "alice" "a \\"b\\" \\\\ c"')
        # AUTHENTICATE PLAIN without SASL-IR: raw UTF-8 inside base64.
        with FakeImapServer("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready (fake_imap.py)",
                            [Step(r"(?P<tag>\S+) AUTHENTICATE PLAIN", "+ "),
                             Step(r"(?P<b64>[A-Za-z0-9+/=]+)", "{last_tag} OK done")],
                            EMPTY_MAILBOX) as fake:
            res = self.run_against(fake, env=env)
        self.assertRanToTheEnd(res, fake, 2)
        self.assertEqual(base64.b64decode(fake.received()[1]), b"\0alice\0" + raw)

    def test_plaintext_prefers_cram_md5(self):
        # Without TLS, CRAM-MD5 keeps the password off the wire (RFC 2195).
        challenge = b"<1896.697170952@postoffice.reston.mci.net>"
        pw = 'p "q" \\ \u00e4'
        with FakeImapServer("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=CRAM-MD5] ready",
                            [Step(r"(?P<tag>\S+) AUTHENTICATE CRAM-MD5", "+ " + b64(challenge)),
                             Step(r"[A-Za-z0-9+/=]+", "{last_tag} OK done")], EMPTY_MAILBOX) as fake:
            res = self.run_against(fake, env={"MAILFERRY_FROM_PASSWORD": pw})
        self.assertRanToTheEnd(res, fake, 2)
        digest = hmac.new(pw.encode("utf-8"), challenge, hashlib.md5).hexdigest()
        self.assertEqual(base64.b64decode(fake.received()[1]), b"alice " + digest.encode())
        self.assertNotIn(pw.encode("utf-8"), fake.all_received())

    # -- OAuth ----------------------------------------------------------------------------

    def token_file(self, token="ya29.fake-token"):
        path = os.path.join(self.run_dir, "token")
        with open(path, "w") as f:
            f.write(token + "\n")
        return path

    def test_xoauth2_sasl_string(self):
        # Gmail / Office 365 style: SASL-IR, initial response on the command line.
        greeting = "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=PLAIN SASL-IR] Gimap ready"
        with FakeImapServer(greeting, [Step(r"(?P<tag>\S+) AUTHENTICATE XOAUTH2 (?P<ir>\S+)",
                                            "{tag} OK alice@example.com authenticated")],
                            EMPTY_MAILBOX) as fake:
            res = self.run_against(fake, ["--from-oauth-token-file", self.token_file()],
                                   user="alice@example.com")
        self.assertRanToTheEnd(res, fake, 1)
        ir = self.args_of(fake.received()[0]).rsplit(b" ", 1)[1]
        self.assertEqual(base64.b64decode(ir),
                         b"user=alice@example.com\x01auth=Bearer ya29.fake-token\x01\x01")

    def test_xoauth2_error_challenge_is_answered_and_reported(self):
        error = b64(b'{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}')
        greeting = "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR] Gimap ready"
        steps = [Step(r"(?P<tag>\S+) AUTHENTICATE XOAUTH2 \S+", "+ " + error),
                 Step(r"", "{last_tag} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)")]
        with FakeImapServer(greeting, steps, EMPTY_MAILBOX) as fake:
            res = self.run_against(fake, ["--from-oauth-token-file", self.token_file("t0k")])
        self.assertEqual(res.returncode, 3, res.stderr)
        self.assertEqual(fake.steps_done(), 2, fake.received())
        self.assertEqual(fake.received()[1], b"")  # the empty response the mechanism asks for
        self.assertIn("OAuth login as 'alice'", res.stderr)
        self.assertIn('"status":"401"', res.stderr)
        self.assertIn("fresh token", res.stderr)
        self.assertNotIn("t0k", res.stderr)

    def test_oauthbearer_preferred_without_sasl_ir(self):
        greeting = "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=OAUTHBEARER] ready"
        steps = [Step(r"(?P<tag>\S+) AUTHENTICATE OAUTHBEARER", "+ "),
                 Step(r"[A-Za-z0-9+/=]+", "{last_tag} OK done")]
        with FakeImapServer(greeting, steps, EMPTY_MAILBOX) as fake:
            res = self.run_against(fake, ["--from-oauth-token-file", self.token_file()],
                                   user="alice@example.com")
            port = fake.port
        self.assertRanToTheEnd(res, fake, 2)
        self.assertEqual(base64.b64decode(fake.received()[1]),
                         b"n,a=alice@example.com,\x01host=127.0.0.1\x01port=%d\x01"
                         b"auth=Bearer ya29.fake-token\x01\x01" % port)

    # -- vendor admin logins ----------------------------------------------------------------

    def test_kerio_master_auth(self):
        # Kerio Connect (its "IMAP Master Authentication" article): X-MASTERAUTH, a challenge,
        # MD5(challenge + master password) in hex, then X-SETUSER "user".
        challenge = "<4711.1700000000@kerio.example>"
        expected = hashlib.md5((challenge + ADMIN_PW).encode()).hexdigest()
        steps = [Step(r"(?P<tag>\S+) X-MASTERAUTH", "+ " + challenge),
                 Step(expected, "{last_tag} OK X-MASTERAUTH Welcome to server, master"),
                 Step(r'(?P<tag>\S+) X-SETUSER "alice@example.com"', "{tag} OK X-SETUSER completed")]
        greeting = "* OK [CAPABILITY IMAP4rev1 X-MASTERAUTH AUTH=PLAIN] Kerio Connect IMAP ready"
        for args in (["--from-admin", "master"],
                     ["--from-admin", "master", "--from-auth", "X-MASTERAUTH"]):
            with self.subTest(args=args):
                g = greeting if "--from-auth" not in args else greeting.replace(" X-MASTERAUTH", "")
                with FakeImapServer(g, steps, EMPTY_MAILBOX) as fake:
                    res = self.run_against(fake, args, user="alice@example.com",
                                           env={"MAILFERRY_FROM_ADMIN_PASSWORD": ADMIN_PW})
                self.assertRanToTheEnd(res, fake, 3)
                self.assertEqual(fake.received()[1], expected.encode())

    def test_groupwise_trusted_application(self):
        # GroupWise (Micro Focus KB 7015223): AUTHENTICATE XGWTRUSTEDAPP, "+", the line
        # "XGWTRUSTEDAPP base64(name NUL key)", then LOGIN user "".
        key_line = "XGWTRUSTEDAPP " + b64(b"mailferry\0" + ADMIN_PW.encode())
        greeting = "* OK [CAPABILITY IMAP4rev1 AUTH=XGWTRUSTEDAPP] GroupWise IMAP4rev1 Server Ready"
        steps = [Step(r"(?P<tag>\S+) AUTHENTICATE XGWTRUSTEDAPP", "+ "),
                 Step(re.escape(key_line), "{last_tag} OK XGWTRUSTEDAPP Authentication Successful"),
                 Step(r'(?P<tag>\S+) LOGIN "alice" ""', "{tag} OK LOGIN completed")]
        with FakeImapServer(greeting, steps, EMPTY_MAILBOX) as fake:
            res = self.run_against(fake, ["--from-admin", "mailferry"],
                                   env={"MAILFERRY_FROM_ADMIN_PASSWORD": ADMIN_PW})
        self.assertRanToTheEnd(res, fake, 3)
        # A wrong key: GroupWise's own words and what to check.
        steps = [Step(r"(?P<tag>\S+) AUTHENTICATE XGWTRUSTEDAPP", "+ "),
                 Step(r"XGWTRUSTEDAPP \S+", "{last_tag} NO XGWTRUSTEDAPP (D074)")]
        with FakeImapServer(greeting, steps, EMPTY_MAILBOX) as fake:
            res = self.run_against(fake, ["--from-admin", "mailferry"],
                                   env={"MAILFERRY_FROM_ADMIN_PASSWORD": "wrong-key"})
        self.assertEqual(res.returncode, 3, res.stderr)
        self.assertIn("GroupWise trusted-application login as 'mailferry'", res.stderr)
        self.assertIn("(D074)", res.stderr)
        self.assertNotIn("wrong-key", res.stderr)


if __name__ == "__main__":
    unittest.main()
