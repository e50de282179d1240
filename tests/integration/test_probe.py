"""mailferry probe and presets against a real Dovecot: the acceptance tests of the probing
issue. Probing finds the working settings on a server where only implicit TLS is open, and on
one where only STARTTLS (STLS) is; the presets command lists the shipped providers.

"Only X is open" is arranged with --ports: the URL points at a closed port and --ports lists
that closed port and the one Dovecot port that speaks X.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from mftest import MAILFERRY, REPO, ServerTestCase


class ClosedPort:
    """A loopback port bound but not listening: connecting to it is refused, and no other
    process can take it while we hold it."""

    def __enter__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        return self.port

    def __exit__(self, *exc):
        self.sock.close()


def run(args, env=None, timeout=60):
    return subprocess.run([MAILFERRY] + list(args), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, **(env or {})))


class Probe(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.start_server("probe", "slash", pop3=True)
        cls.info = cls.srv.info

    def probe_json(self, url, ports, expect_exit=0, extra=()):
        res = run(["probe", url, "--ports", ",".join(str(p) for p in ports), "--json",
                   "--ca-file", self.srv.ca_file, "--timeout", "5"] + list(extra))
        self.assertEqual(res.returncode, expect_exit, res.stdout + res.stderr)
        lines = [json.loads(l) for l in res.stdout.splitlines()]
        attempts = [l for l in lines if l["event"] == "attempt"]
        results = [l for l in lines if l["event"] == "result"]
        self.assertEqual(len(results), 1, res.stdout)
        self.assertEqual(results[0]["attempts"], len(attempts))
        return attempts, results[0]

    def settings(self, attempts):
        return [(a["port"], a["security"], a["outcome"]) for a in attempts]

    def test_only_implicit_tls_open(self):
        tls = self.info["imaps_port"]
        with ClosedPort() as closed:
            attempts, result = self.probe_json("imaps://alice@127.0.0.1:%d" % closed,
                                               [closed, tls])
        self.assertEqual(self.settings(attempts), [
            (closed, "tls", "refused"), (closed, "starttls", "refused"),
            (closed, "none", "refused"), (tls, "tls", "ok")])
        for a in attempts[:3]:
            self.assertIn("connection refused by 127.0.0.1:%d" % closed, a["detail"])
        ok = attempts[3]
        self.assertTrue(ok["usable"])
        self.assertTrue(ok["tls"].startswith("TLSv1."), ok)
        self.assertIn("Dovecot", ok["greeting"])
        self.assertIn("AUTH=PLAIN", ok["capabilities"])
        self.assertIn("PLAIN", ok["mechanisms"])
        self.assertEqual(ok["server_id"].get("name"), "Dovecot")
        self.assertFalse(result["given_worked"])
        self.assertEqual(result["chosen"], {"url": "imaps://alice@127.0.0.1:%d" % tls,
                                            "protocol": "imap", "host": "127.0.0.1",
                                            "port": tls, "security": "tls"})
        self.assertEqual(result["server"], "dovecot")
        self.assertEqual(result["notice"], "")

    def test_only_starttls_open(self):
        plain = self.info["imap_port"]
        with ClosedPort() as closed:
            attempts, result = self.probe_json("imap://127.0.0.1:%d" % closed, [closed, plain])
        # The given settings first, then each port with TLS, STARTTLS, none.
        self.assertEqual(self.settings(attempts), [
            (closed, "starttls", "refused"), (closed, "tls", "refused"),
            (closed, "none", "refused"), (plain, "tls", "tls_failure"),
            (plain, "starttls", "ok")])
        # TLS spoken to a plain-text port: the handshake failure says why.
        self.assertIn("wrong version number", attempts[3]["detail"])
        ok = attempts[4]
        self.assertTrue(ok["usable"])
        self.assertTrue(ok["tls"].startswith("TLSv1."), ok)
        # Capabilities are the ones asked for after STARTTLS (RFC 3501 6.2.1): no STARTTLS.
        self.assertNotIn("STARTTLS", ok["capabilities"])
        self.assertEqual(result["chosen"]["security"], "starttls")
        self.assertEqual(result["chosen"]["port"], plain)
        self.assertIn("Use: imap://127.0.0.1:%d (STARTTLS)" % plain, result["advice"])

    def test_only_stls_open_pop3(self):
        plain = self.info["pop3_port"]
        with ClosedPort() as closed:
            attempts, result = self.probe_json("pop3s://127.0.0.1:%d" % closed, [closed, plain])
        self.assertEqual(self.settings(attempts), [
            (closed, "tls", "refused"), (closed, "starttls", "refused"),
            (closed, "none", "refused"), (plain, "tls", "tls_failure"),
            (plain, "starttls", "ok")])
        self.assertIn("USER", attempts[4]["capabilities"])
        self.assertEqual(result["chosen"]["url"], "pop3://127.0.0.1:%d" % plain)
        self.assertEqual(result["server"], "dovecot")

    def test_given_settings_that_work_are_used_as_they_are(self):
        tls = self.info["imaps_port"]
        attempts, result = self.probe_json("imaps://127.0.0.1:%d" % tls, [tls])
        self.assertEqual(len(attempts), 1)
        self.assertTrue(result["given_worked"])

    def test_plaintext_is_reported_but_not_chosen_without_allow_plaintext(self):
        # Dovecot's TLS port answers nothing in clear text and its plain port offers
        # STARTTLS, so to see "plaintext only" we probe the plain port with --all.
        plain = self.info["imap_port"]
        attempts, result = self.probe_json("imap://127.0.0.1:%d" % plain, [plain],
                                           extra=["--all"])
        none = [a for a in attempts if a["security"] == "none"][0]
        self.assertEqual(none["outcome"], "ok")
        self.assertFalse(none["usable"])
        self.assertIn("clear text", none["detail"])
        self.assertEqual(result["chosen"]["security"], "starttls")

    def test_text_output_and_exit_code_when_nothing_works(self):
        with ClosedPort() as closed:
            res = run(["probe", "imap://127.0.0.1:%d" % closed, "--ports", str(closed)])
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        lines = res.stdout.splitlines()
        self.assertEqual(sum(1 for l in lines if l.startswith("  imap")), 3, res.stdout)
        self.assertIn("No usable settings found on 127.0.0.1 (3 attempts).", res.stdout)
        self.assertIn("Every port refused the connection", res.stdout)

    def test_text_output_names_the_settings_to_use(self):
        tls = self.info["imaps_port"]
        with ClosedPort() as closed:
            res = run(["probe", "imaps://127.0.0.1:%d" % closed, "--ports",
                       "%d,%d" % (closed, tls), "--ca-file", self.srv.ca_file])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("Server: Dovecot", res.stdout)
        self.assertIn("\nUse: imaps://127.0.0.1:%d\n" % tls, res.stdout)
        self.assertIn("did not work; save the ones above", res.stdout)

    def test_untrusted_certificate_is_explained(self):
        tls = self.info["imaps_port"]
        res = run(["probe", "imaps://127.0.0.1:%d" % tls, "--ports", str(tls), "--timeout", "1"])
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        self.assertIn("self-signed certificate", res.stdout)
        self.assertIn("--ca-file", res.stdout)

    def test_usage_errors(self):
        res = run(["probe", "imap://127.0.0.1", "--ports", "993,x"])
        self.assertEqual(res.returncode, 2)
        self.assertIn("'x' is not a port", res.stderr)
        res = run(["probe", "http://127.0.0.1"])
        self.assertEqual(res.returncode, 2)
        self.assertIn("unknown scheme", res.stderr)


class MigrateProbe(ServerTestCase):
    """migrate and verify probe like `mailferry probe` when the given settings cannot connect,
    say which settings worked, and go on with them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.start_server("psrc", "slash", pop3=True)
        cls.dst = cls.start_server("pdst", "slash")
        cls.seeded = False

    def setUp(self):
        if not MigrateProbe.seeded:
            self.seed(self.src, "simple")
            MigrateProbe.seeded = True

    def run_mf(self, command, src_url, dst_user, args=(), src_password=None):
        env = {"MAILFERRY_FROM_PASSWORD": src_password or self.src.password("alice"),
               "MAILFERRY_TO_PASSWORD": self.dst.password(dst_user)}
        return run([command, "--from", src_url, "--to", self.dst.url(dst_user),
                    "--from-ca-file", self.src.ca_file, "--to-ca-file", self.dst.ca_file,
                    "--timeout", "10"] + list(args), env=env, timeout=120)

    def migrate(self, src_url, dst_user, args=(), expect_exit=0):
        state = os.path.join(self.run_dir, "state-%s.db" % dst_user)
        res = self.run_mf("migrate", src_url, dst_user, ["--state", state, "--json"] + list(args))
        self.assertEqual(res.returncode, expect_exit, res.stdout[-3000:] + res.stderr[-3000:])
        events = [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]
        return events, res

    def settings_notice(self, events):
        notices = [e for e in events if e.get("event") == "notice" and e["kind"] == "settings"]
        self.assertEqual(len(notices), 1, events)
        self.assertEqual(notices[0]["side"], "source")
        return notices[0]

    def test_migrate_where_only_implicit_tls_is_open(self):
        tls = self.src.info["imaps_port"]
        with ClosedPort() as closed:
            given = "imaps://alice@127.0.0.1:%d" % closed
            events, res = self.migrate(given, "alice", ["--probe-ports", "%d,%d" % (closed, tls)])
        summary = events[-1]
        self.assertEqual(summary["event"], "summary")
        self.assertEqual(summary["failed"], 0)
        self.assertEqual(summary["copied"], 10)
        used = "imaps://alice@127.0.0.1:%d" % tls
        notice = self.settings_notice(events)
        self.assertEqual(notice["url"], used)
        # Which settings failed and why, which work, and what to pass next time: on stderr,
        # as a JSON event and in the summary.
        text = notice["text"]
        self.assertIn("source: %s failed (connection refused" % given, text)
        self.assertIn("%s (TLS) works - using it" % used, text)
        self.assertIn("pass --from %s next time" % used, text)
        self.assertIn(text, res.stderr)
        self.assertIn(text, summary["notices"])
        # The advice works, and the state is the same mailbox's: nothing is copied again.
        events, res = self.migrate(used, "alice")
        self.assertEqual(events[-1]["copied"], 0)
        self.assertNotIn("trying the other ports", res.stderr)
        self.assertEqual([e for e in events if e.get("event") == "notice"], [])

    def test_migrate_where_only_starttls_is_open(self):
        plain = self.src.info["imap_port"]
        with ClosedPort() as closed:
            events, res = self.migrate("imap://alice@127.0.0.1:%d" % closed, "bob",
                                       ["--probe-ports", "%d,%d" % (closed, plain)])
        self.assertEqual(events[-1]["copied"], 10)
        notice = self.settings_notice(events)
        used = "imap://alice@127.0.0.1:%d" % plain
        self.assertEqual(notice["url"], used)
        self.assertIn("%s with STARTTLS works - using it" % used, notice["text"])
        self.assertIn("pass --from %s next time" % used, res.stderr)
        res = self.run_mf("verify", used, "bob")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

    def test_migrate_where_only_stls_is_open_pop3(self):
        plain = self.src.info["pop3_port"]
        with ClosedPort() as closed:
            events, res = self.migrate("pop3s://alice@127.0.0.1:%d" % closed, "carol",
                                       ["--probe-ports", "%d,%d" % (closed, plain),
                                        "--pop3-folder", "Old POP3"])
        summary = events[-1]
        inbox = [m for m in self.seed_manifest_inbox()]
        self.assertEqual(summary["copied"], len(inbox))
        self.assertEqual(summary["folders"][0]["destination"], "Old POP3")
        notice = self.settings_notice(events)
        self.assertEqual(notice["url"], "pop3://alice@127.0.0.1:%d" % plain)
        self.assertIn("with STLS works", notice["text"])

    def seed_manifest_inbox(self):
        dump = self.dump(self.src)
        return [m for f in dump["folders"] if f["name"] == "INBOX" for m in f["messages"]]

    def test_verify_probes_too(self):
        tls = self.src.info["imaps_port"]
        self.migrate(self.src.url(), "dave")
        with ClosedPort() as closed:
            res = self.run_mf("verify", "imaps://alice@127.0.0.1:%d" % closed, "dave",
                              ["--probe-ports", "%d,%d" % (closed, tls), "--json"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        report = json.loads(res.stdout)
        self.assertTrue(report["identical"])
        self.assertEqual(len(report["notices"]), 1, report)
        self.assertIn("imaps://alice@127.0.0.1:%d (TLS) works" % tls, report["notices"][0])
        self.assertIn("pass --from imaps://alice@127.0.0.1:%d next time" % tls, res.stderr)

    def test_a_wrong_password_is_never_a_reason_to_probe(self):
        res = self.run_mf("migrate", self.src.url(), "alice",
                          ["--state", os.path.join(self.run_dir, "wrong.db")],
                          src_password="not the password")
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        self.assertIn("Check the user name and password", res.stderr)
        self.assertNotIn("trying the other ports", res.stderr)
        self.assertNotIn("works - using it", res.stderr)

    def test_an_untrusted_certificate_is_not_probed_around(self):
        # Every port shows the same certificate: probing could only end without encryption.
        # The error says what to do instead.
        env = {"MAILFERRY_FROM_PASSWORD": self.src.password("alice"),
               "MAILFERRY_TO_PASSWORD": self.dst.password("alice")}
        res = run(["migrate", "--from", self.src.url(), "--to", self.dst.url(),
                   "--from-ca-file", self.dst.ca_file, "--to-ca-file", self.dst.ca_file,
                   "--probe-ports", "%d,%d" % (self.src.info["imaps_port"],
                                              self.src.info["imap_port"]),
                   "--state", os.path.join(self.run_dir, "cert.db")], env=env)
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        self.assertIn("--ca-file FILE to trust this server's CA", res.stderr)
        self.assertNotIn("trying the other ports", res.stderr)
        self.assertNotIn("allow-plaintext", res.stderr)

    def test_nothing_works(self):
        with ClosedPort() as closed:
            res = self.run_mf("migrate", "imaps://alice@127.0.0.1:%d" % closed, "alice",
                              ["--probe-ports", str(closed), "--state",
                               os.path.join(self.run_dir, "none.db")])
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        self.assertIn("No usable settings found on 127.0.0.1 (3 attempts)", res.stderr)
        self.assertIn("connection refused", res.stderr)
        self.assertNotIn("using it", res.stderr)


ELEVEN = ["aol", "fastmail", "gmail", "gmx", "godaddy", "icloud", "kerio", "office365",
          "outlook", "yahoo", "zoho"]


class Presets(unittest.TestCase):
    def test_lists_all_eleven_providers(self):
        res = run(["presets"])
        self.assertEqual(res.returncode, 0, res.stderr)
        names = [l.split()[0] for l in res.stdout.splitlines()[1:] if l and l[0] != " "
                 and not l.startswith("11 presets")]
        self.assertEqual(names, ELEVEN, res.stdout)
        self.assertIn("imap.secureserver.net", res.stdout)
        self.assertIn("(from the user)", res.stdout)  # Kerio
        data = json.loads(run(["presets", "--json"]).stdout)
        self.assertEqual([p["name"] for p in data["presets"]], ELEVEN)

    def test_one_preset_as_json(self):
        res = run(["presets", "gmail", "--json"])
        self.assertEqual(res.returncode, 0, res.stderr)
        gmail = json.loads(res.stdout)
        self.assertEqual(gmail["host"], "imap.gmail.com")
        self.assertEqual(gmail["port"], 993)
        self.assertEqual(gmail["security"], "tls")
        self.assertEqual(gmail["login"], "email")
        self.assertIn("[Gmail]/Starred", gmail["folders"]["virtual"])
        self.assertEqual(gmail["folders"]["all_mail"],
                         ["[Gmail]/All Mail", "[Google Mail]/All Mail"])
        godaddy = json.loads(run(["presets", "GoDaddy", "--json"]).stdout)
        self.assertEqual((godaddy["host"], godaddy["port"], godaddy["login"]),
                         ("imap.secureserver.net", 993, "email"))

    def test_details_by_alias(self):
        res = run(["presets", "Office 365"])
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("Office 365 / Exchange Online (office365)", res.stdout)
        self.assertIn("outlook.office365.com", res.stdout)
        self.assertIn("Files -> Files (migrated)", res.stdout)

    def test_unknown_name(self):
        res = run(["presets", "nosuchmail"])
        self.assertEqual(res.returncode, 2)
        self.assertIn("no preset named 'nosuchmail'", res.stderr)
        self.assertIn("gmail", res.stderr)

    def test_a_new_file_is_a_new_preset(self):
        tmp = tempfile.mkdtemp(prefix="mf-presets-")
        try:
            for name in ELEVEN:
                shutil.copy(os.path.join(REPO, "presets", name + ".json"), tmp)
            example = {"format": "mailferry-preset/1", "name": "example",
                       "title": "Example Mail", "protocol": "pop3", "host": "pop.example.net",
                       "port": 995, "security": "tls", "login": "local-part",
                       "max_message_bytes": 10485760, "max_connections": 2}
            with open(os.path.join(tmp, "example.json"), "w") as f:
                json.dump(example, f)
            env = {"MAILFERRY_PRESETS_DIR": tmp}
            res = run(["presets"], env=env)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("pop.example.net", res.stdout)
            self.assertIn("12 presets from %s" % tmp, res.stdout)
            got = json.loads(run(["presets", "example", "--json"], env=env).stdout)
            self.assertEqual(got["protocol"], "pop3")
            # A broken file is refused with its name and the field.
            example["port"] = 0
            with open(os.path.join(tmp, "example.json"), "w") as f:
                json.dump(example, f)
            res = run(["presets"], env=env)
            self.assertEqual(res.returncode, 4)
            self.assertIn("example.json: field 'port'", res.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
