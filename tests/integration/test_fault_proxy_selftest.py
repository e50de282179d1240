"""Self-tests of tests/tools/fault_proxy.py against tiny in-process servers (an echo server and
a minimal IMAP responder): every fault mode does what it says, repeatably for a seed, so a
fault test that passes cannot pass because its fault never happened. Fast (no Dovecot)."""

import json
import os
import re
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAULT_PROXY = os.path.join(REPO, "tests", "tools", "fault_proxy.py")


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while True:
                data = self.request.recv(65536)
                if not data:
                    break
                self.server.received[-1:] = [self.server.received[-1] + data]
                self.request.sendall(data)
        except OSError:
            pass
        self.server.closed += 1

    def setup(self):
        self.server.received.append(b"")


class MiniImapHandler(socketserver.StreamRequestHandler):
    """Greets with STARTTLS offered, answers every command OK, records the commands it saw
    (with their literals) so tests can tell which ones the proxy kept from it."""

    def handle(self):
        w = self.wfile
        w.write(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LITERAL+ AUTH=PLAIN] mini ready\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line
            while True:
                m = re.search(rb"\{(\d+)(\+?)\}\r\n$", line)
                if not m:
                    break
                if not m.group(2):
                    w.write(b"+ send it\r\n")
                command += self.rfile.read(int(m.group(1)))
                line = self.rfile.readline()
                command += line
            self.server.commands.append(command)
            tag, verb = (command.split() + [b"", b""])[:2]
            if verb.upper() == b"CAPABILITY":
                w.write(b"* CAPABILITY IMAP4rev1 STARTTLS LITERAL+ COMPRESS=DEFLATE ID\r\n")
            elif verb.upper() == b"FETCH":
                body = b"* CAPABILITY STARTTLS inside a literal\r\n"
                w.write(b"* 1 FETCH (BODY[] {%d}\r\n%s)\r\n" % (len(body), body))
            w.write(tag + b" OK done\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.received, self.closed, self.commands = [], 0, []
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def port(self):
        return self.server_address[1]


class ProxySelfTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mf-proxy-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.echo = Server(EchoHandler)
        self.addCleanup(self.echo.server_close)
        self.addCleanup(self.echo.shutdown)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
            p.stdout.close()

    def start(self, *args, target=None, seed=1):
        stats = os.path.join(self.tmp, "stats-%d.json" % len(self.procs))
        proc = subprocess.Popen([sys.executable, FAULT_PROXY, "--target",
                                 str(target or self.echo.port), "--seed", str(seed), "--stats",
                                 stats] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(proc)
        line = proc.stdout.readline()
        self.assertTrue(line.startswith("PORT "), line)
        proc.port = int(line.split()[1])
        proc.stats_path = stats
        return proc

    def stop(self, proc):
        proc.terminate()
        self.assertEqual(proc.wait(10), 0)
        with open(proc.stats_path) as f:
            return json.load(f)

    def exchange(self, proc, payload, timeout=5):
        """Sends payload, reads until EOF or len(payload) bytes; returns (bytes, got_eof)."""
        with socket.create_connection(("127.0.0.1", proc.port), timeout=timeout) as s:
            try:
                s.sendall(payload)
            except OSError:
                return b"", True
            got = b""
            while len(got) < len(payload):
                try:
                    data = s.recv(65536)
                except ConnectionResetError:
                    return got, True
                if not data:
                    return got, True
                got += data
            return got, False

    def wait_stat(self, proc, key, n):
        """Waits until the proxy's stats file says `key` reached n (it rewrites the file after
        each connection ends), so a stop right after cannot race the proxy's bookkeeping."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with open(proc.stats_path) as f:
                    if json.load(f).get(key, 0) >= n:
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.02)

    def wait_closed(self, n):
        """Waits until the echo server saw n connections end (the proxy closed its side)."""
        deadline = time.monotonic() + 5
        while self.echo.closed < n and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.echo.closed, n, "the proxy left the server side open")

    def payload(self, n):
        return bytes((i * 7 + 3) % 251 for i in range(n))

    # -- byte-level modes ------------------------------------------------------------------

    def test_plain_forwarding_and_stats(self):
        p = self.start()
        data = self.payload(200000)
        self.assertEqual(self.exchange(p, data), (data, False))
        stats = self.stop(p)
        self.assertEqual((stats["connections"], stats["bytes_c2s"], stats["bytes_s2c"]),
                         (1, 200000, 200000))
        self.assertEqual(stats["faults_injected"], 0)

    def test_cut_server_to_client_after_n_bytes(self):
        p = self.start("--cut-after", "1000")
        data = self.payload(5000)
        got, eof = self.exchange(p, data)
        self.assertTrue(eof)
        self.assertEqual(got, data[:1000])
        stats = self.stop(p)
        self.assertEqual(stats["faults"]["cut"], 1)
        self.assertEqual(stats["events"][0], {"fault": "cut", "connection": 1,
                                              "direction": "s2c", "at": 1000})

    def test_cut_client_to_server_with_reset(self):
        p = self.start("--direction", "c2s", "--cut-after", "700", "--cut-rst")
        got, eof = self.exchange(p, self.payload(5000))
        self.assertTrue(eof)
        self.assertLessEqual(len(got), 700)
        self.wait_closed(1)
        self.assertEqual(self.echo.received[-1], self.payload(700))
        self.assertEqual(self.stop(p)["faults"]["cut"], 1)

    def test_every_and_faulty_connections_select_connections(self):
        p = self.start("--cut-after", "10", "--every", "2", "--faulty-connections", "2")
        data = self.payload(100)
        cut = [self.exchange(p, data)[1] for _ in range(6)]
        self.assertEqual(cut, [False, True, False, True, False, False])

    def test_cut_jitter_is_repeatable_per_seed(self):
        def lengths(seed):
            p = self.start("--cut-after", "1000", "--cut-jitter", seed=seed)
            out = [len(self.exchange(p, self.payload(3000))[0]) for _ in range(4)]
            self.stop(p)
            return out
        first = lengths(5)
        self.assertEqual(first, lengths(5))
        self.assertTrue(all(500 <= n <= 1500 for n in first), first)
        self.assertGreater(len(set(first)), 1, first)
        self.assertNotEqual(first, lengths(6))

    def test_stall_for_a_while_then_resume(self):
        p = self.start("--stall-after", "100", "--stall-seconds", "0.6")
        data = self.payload(1000)
        with socket.create_connection(("127.0.0.1", p.port), timeout=5) as s:
            s.sendall(data)
            got = b""
            while len(got) < 100:
                got += s.recv(65536)
            first = time.monotonic()
            while len(got) < len(data):
                got += s.recv(65536)
            self.assertGreaterEqual(time.monotonic() - first, 0.5)
        self.assertEqual(got[:100], data[:100])
        self.assertEqual(got, data)
        self.assertEqual(self.stop(p)["faults"]["stall"], 1)

    def test_stall_forever_ends_when_the_client_gives_up(self):
        p = self.start("--stall-after", "100")
        with socket.create_connection(("127.0.0.1", p.port), timeout=5) as s:
            s.sendall(self.payload(1000))
            got = b""
            while len(got) < 100:
                got += s.recv(65536)
            s.settimeout(0.5)
            self.assertRaises(socket.timeout, s.recv, 65536)
            self.assertEqual(got, self.payload(100))
        self.wait_closed(1)
        self.wait_stat(p, "closed", 1)
        self.assertEqual(self.stop(p)["closed"], 1)

    def test_stall_client_to_server_ends_when_the_client_gives_up(self):
        p = self.start("--stall-after", "100", "--direction", "c2s")
        with socket.create_connection(("127.0.0.1", p.port), timeout=5) as s:
            s.sendall(self.payload(1000))
            time.sleep(0.3)
        self.wait_closed(1)
        self.assertEqual(self.echo.received[-1], self.payload(100))

    def test_trickle_is_slow_and_complete(self):
        # Each direction sleeps len/rate per chunk: 4000 bytes at 5000 B/s = 0.8 s at least.
        p = self.start("--trickle", "5000", "--direction", "both")
        data = self.payload(4000)
        start = time.monotonic()
        self.assertEqual(self.exchange(p, data), (data, False))
        self.assertGreaterEqual(time.monotonic() - start, 0.78)
        self.assertGreaterEqual(self.stop(p)["faults"]["trickle"], 2 * 4000 // 625)

    def test_trickle_total_is_shared_by_every_connection(self):
        # 3 connections x 3000 bytes, c2s only, 10,000 B/s in all: 0.9 s of budget together
        # (the last chunk, at most 1,250 bytes, leaves at the start of its 0.125 s: 0.775 s at
        # least), where --trickle would give each its own 10,000 B/s (0.3 s).
        p = self.start("--trickle-total", "10000", "--direction", "c2s")
        data = self.payload(3000)
        results = []
        start = time.monotonic()
        threads = [threading.Thread(target=lambda: results.append(self.exchange(p, data)))
                   for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertGreaterEqual(time.monotonic() - start, 0.7)
        self.assertEqual(results, [(data, False)] * 3)
        self.stop(p)

    def test_rtt_delays_every_round_trip_and_keeps_every_byte(self):
        p = self.start("--rtt-ms", "300")
        with socket.create_connection(("127.0.0.1", p.port), timeout=5) as s:
            for _ in range(2):  # each round trip pays the 300 ms, not only the first
                start = time.monotonic()
                s.sendall(b"ping")
                self.assertEqual(s.recv(16), b"ping")
                self.assertGreaterEqual(time.monotonic() - start, 0.29)
        data = self.payload(3000000)
        self.assertEqual(self.exchange(p, data), (data, False))
        self.assertEqual(self.stop(p)["bytes_s2c"], 3000000 + 8)

    def test_rtt_window_bounds_the_bytes_in_flight(self):
        # 100,000 bytes may wait in each direction for 0.2 s: at most ~500 KB/s gets through,
        # so 1,000,000 bytes need two seconds; with the default 4 MiB window, well under one.
        data = self.payload(1000000)
        for window, slow in (("100000", True), ("4194304", False)):
            p = self.start("--rtt-ms", "400", "--window", window)
            start = time.monotonic()
            self.assertEqual(self.exchange(p, data, timeout=15), (data, False))
            elapsed = time.monotonic() - start
            if slow:
                self.assertGreaterEqual(elapsed, 1.8)
            else:
                self.assertLess(elapsed, 1.5)

    def test_rtt_is_refused_with_the_imap_mode(self):
        res = subprocess.run([sys.executable, FAULT_PROXY, "--target", "1", "--rtt-ms", "10",
                              "--imap"], capture_output=True, text=True, timeout=10)
        self.assertEqual(res.returncode, 2)
        self.assertIn("--rtt-ms cannot be combined with the IMAP mode", res.stderr)

    def test_refusals(self):
        data = self.payload(50)
        p = self.start("--refuse-every", "3")
        self.assertEqual([self.exchange(p, data)[0] == data for _ in range(6)],
                         [True, True, False, True, True, False])
        self.assertEqual(self.stop(p)["faults"]["refused"], 2)
        p = self.start("--refuse-first", "2")
        self.assertEqual([self.exchange(p, data)[0] == data for _ in range(3)],
                         [False, False, True])
        p = self.start("--refuse-after", "1")
        self.assertEqual([self.exchange(p, data)[0] == data for _ in range(3)],
                         [True, False, False])

    def test_tls_garbage_is_inserted_repeatably(self):
        data = self.payload(100)
        outs = []
        for _ in range(2):
            p = self.start("--tls-garbage-after", "10", "--garbage-bytes", "16", seed=3)
            with socket.create_connection(("127.0.0.1", p.port), timeout=5) as s:
                s.sendall(data)
                got = b""
                while len(got) < 116:
                    got += s.recv(65536)
            outs.append(got)
            self.assertEqual(self.stop(p)["faults"]["tls_garbage"], 1)
        self.assertEqual(outs[0], outs[1])
        self.assertEqual(outs[0][:10] + outs[0][26:], data)

    def test_refuses_non_loopback_targets_and_bad_rules(self):
        for args in (["--target-host", "192.0.2.1"], ["--throttle-imap", "append:x"],
                     ["--throttle-imap", "append:0:NO x"]):
            res = subprocess.run([sys.executable, FAULT_PROXY, "--target", "1"] + args,
                                 capture_output=True, text=True, timeout=10)
            self.assertEqual(res.returncode, 2, args)
            self.assertTrue(res.stderr, args)
        self.assertIn("loopback", subprocess.run(
            [sys.executable, FAULT_PROXY, "--target", "1", "--target-host", "192.0.2.1"],
            capture_output=True, text=True, timeout=10).stderr)

    # -- IMAP mode -------------------------------------------------------------------------

    def imap(self, *args):
        server = Server(MiniImapHandler)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        p = self.start(*args, target=server.port)
        s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
        self.addCleanup(s.close)
        return server, p, s, s.makefile("rb")

    def test_imap_strips_starttls_but_not_literal_data(self):
        server, p, s, r = self.imap("--imap")
        greeting = r.readline()
        self.assertNotIn(b"STARTTLS", greeting)
        self.assertIn(b"[CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN]", greeting)
        s.sendall(b"a CAPABILITY\r\n")
        self.assertEqual(r.readline(), b"* CAPABILITY IMAP4rev1 LITERAL+ ID\r\n")
        self.assertEqual(r.readline(), b"a OK done\r\n")
        s.sendall(b"b FETCH 1 BODY[]\r\n")
        self.assertEqual(r.readline(), b"* 1 FETCH (BODY[] {40}\r\n")
        self.assertEqual(r.readline(), b"* CAPABILITY STARTTLS inside a literal\r\n")
        self.assertEqual(r.readline(), b")\r\n")
        self.assertEqual(r.readline(), b"b OK done\r\n")
        self.assertEqual(self.stop(p)["commands"], {"CAPABILITY": 1, "FETCH": 1})

    def test_cut_before_literal_end(self):
        server, p, s, r = self.imap("--cut-before-literal-end", "5", "--literal-min", "10")
        r.readline()
        s.sendall(b"b FETCH 1 BODY[]\r\n")
        self.assertEqual(r.readline(), b"* 1 FETCH (BODY[] {40}\r\n")
        body = b"* CAPABILITY STARTTLS inside a literal\r\n"
        self.assertEqual(r.read(), body[:35])  # all but 5 bytes of the literal, then EOF
        stats = self.stop(p)
        self.assertEqual(stats["faults"]["cut"], 1)

    def test_throttle_kth_append_swallows_its_literals(self):
        server, p, s, r = self.imap("--throttle-imap", "append:2:NO [THROTTLED] slow down")
        r.readline()
        s.sendall(b"a1 APPEND INBOX {5+}\r\nhello\r\n")
        self.assertEqual(r.readline(), b"a1 OK done\r\n")
        # The 2nd APPEND, a MULTIAPPEND with a synchronizing and a non-synchronizing literal.
        s.sendall(b"a2 APPEND INBOX (\\Seen) {3}\r\n")
        self.assertEqual(r.readline(), b"+ go ahead\r\n")
        s.sendall(b"abc (\\Flagged) {4+}\r\ndefg\r\n")
        self.assertEqual(r.readline(), b"a2 NO [THROTTLED] slow down\r\n")
        s.sendall(b"a3 APPEND INBOX {2}\r\n")
        self.assertEqual(r.readline(), b"+ send it\r\n")  # the server's: forwarded again
        s.sendall(b"xy\r\na4 NOOP\r\n")
        self.assertEqual(r.readline(), b"a3 OK done\r\n")
        self.assertEqual(r.readline(), b"a4 OK done\r\n")
        self.assertEqual(server.commands, [b"a1 APPEND INBOX {5+}\r\nhello\r\n",
                                           b"a3 APPEND INBOX {2}\r\nxy\r\n", b"a4 NOOP\r\n"])
        stats = self.stop(p)
        self.assertEqual(stats["faults"]["throttle"], 1)
        self.assertEqual(stats["throttled"], [{"connection": 1, "verb": "APPEND", "tag": "a2",
                                               "response": "NO [THROTTLED] slow down"}])
        self.assertEqual(stats["commands"], {"APPEND": 3, "NOOP": 1})

    def test_throttle_every_kth(self):
        server, p, s, r = self.imap("--throttle-imap", "select:2:NO [INUSE] busy",
                                    "--throttle-every")
        r.readline()
        answers = []
        for i in range(1, 7):
            s.sendall(b"t%d SELECT INBOX\r\n" % i)
            answers.append(r.readline())
        self.assertEqual([a.split()[1] for a in answers], [b"OK", b"NO"] * 3)
        self.assertEqual(self.stop(p)["faults"]["throttle"], 3)

    def test_throttle_then_bye_closes(self):
        server, p, s, r = self.imap(
            "--throttle-imap",
            "uid fetch:1:NO Request is throttled. Suggested Backoff Time: 800 milliseconds",
            "--throttle-bye", "Session throttled")
        r.readline()
        s.sendall(b"f1 UID FETCH 1:* (FLAGS)\r\n")
        self.assertEqual(r.readline(), b"f1 NO Request is throttled. Suggested Backoff Time: "
                                       b"800 milliseconds\r\n")
        self.assertEqual(r.readline(), b"* BYE Session throttled\r\n")
        self.assertEqual(r.readline(), b"")
        self.assertEqual(server.commands, [])
        stats = self.stop(p)
        self.assertEqual((stats["faults"]["throttle"], stats["faults"]["bye"]), (1, 1))
        self.assertEqual(stats["throttled"][0]["verb"], "UID FETCH")


if __name__ == "__main__":
    unittest.main(verbosity=2)
