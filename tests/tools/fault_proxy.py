#!/usr/bin/env python3
"""Fault-injecting TCP proxy for mailferry's fault tests (Python 3 standard library only).

Sits between mailferry and a real server on loopback and breaks the connection in repeatable
ways, so tests can check that a migration survives dropped connections, stalls, slow links,
refused reconnects, TLS record corruption and IMAP throttling replies (which no local server
sends) and still ends identical, without duplicates.

    fault_proxy.py --target 21993 [--listen-port 0] [--seed 1] [--stats FILE] MODES...

Prints "PORT <n>" as the first line on stdout once it listens on 127.0.0.1:<n>, then runs until
SIGTERM or SIGINT (exit 0). Only loopback targets are accepted (exit 2 otherwise).

Connections are numbered 1, 2, 3... in accept order (refused ones included). Every random choice
(cut jitter, trickle chunk sizes, garbage bytes) comes from random.Random("SEED:CONNECTION"), so
the same seed and the same connection number give the same faults whatever the timing.
The client's EOF closes the whole link (IMAP clients never half-close, and a client that gave up
on a stalled link must not leave the server side open).

Byte-level modes (work on TLS too; --direction s2c (default) | c2s | both picks the stream whose
bytes are counted and shaped; "both" applies the fault to each direction's own count):
  --cut-after N          close both sides once N bytes have passed (--cut-jitter: N is drawn from
                         [N/2, 3N/2]; --cut-rst: reset instead of a clean close)
  --stall-after N        stop forwarding after N bytes for --stall-seconds S (default: forever,
                         i.e. until the client gives up and closes)
  --trickle BPS          forward at about BPS bytes/s in small random chunks
  --trickle-total BPS    the same, but BPS is shared by every connection of the proxy (one
                         link for all: more connections carry no more), e.g. a server or a
                         line that is the limit whatever the number of sessions
  --tls-garbage-after N  insert --garbage-bytes (16) random bytes into the server->client stream
                         after N bytes: on an implicit-TLS connection the client sees a TLS
                         record error (bad record header or MAC), like a broken middlebox
  Which connections get these faults: all (default); --every K: every K-th connection;
  --faulty-connections K: at most K connections (the first K of those selected by --every;
  refused connections are never selected).
A long link: --rtt-ms MS delays every byte of every connection, both directions, by MS/2 ms
  each way (a round trip costs MS more), in order; at most --window BYTES (default 4 MiB) wait
  in each direction, as a TCP window would allow: the proxy stops reading from the sender while
  its window is full. Independent of --direction and of the connection selection above.
Connection-level modes: --refuse-every K (accept and close at once every K-th connection),
  --refuse-first M (the first M), --refuse-after M (every connection after the M-th).

IMAP mode (plain IMAP only: use imap:// and --allow-plaintext through the proxy, in front of
the server's IMAP port, never its IMAPS port: the proxy would only see ciphertext):
  --throttle-imap "VERB:K:RESPONSE" (repeatable), e.g.
      "append:3:NO [THROTTLED] Request is throttled. Suggested Backoff Time: 500 milliseconds"
  counts client commands whose verb is VERB (case-insensitive; "uid fetch" for UID commands;
  counted over the proxy's lifetime, across connections) and answers the K-th itself with
  "TAG RESPONSE" instead of forwarding it: the command and its literals never reach the server
  ({n} synchronizing literals get "+ go ahead" from the proxy, {n+} and ~{n} literals are read and
  dropped, MULTIAPPEND's several literals included). --throttle-every: answer every K-th such
  command, not only the K-th. --throttle-bye TEXT: after the injected answer send "* BYE TEXT" and
  close both sides (Office 365 disconnects after its throttling NO).
  The proxy must see the commands, so it keeps the session in clear text: it removes STARTTLS
  (and COMPRESS=DEFLATE, which would make the stream unreadable) from the greeting's CAPABILITY
  code and from CAPABILITY responses (--strip-capability adds names). Dovecot here allows
  plaintext logins (disable_plaintext_auth = no), so the client logs in without TLS. Server
  responses are forwarded whole (literals included), so injected answers never split one.
  --imap turns on this parsing (command counts in the stats) without any throttling rule.
  --cut-before-literal-end R [--literal-min BYTES]: cut (a byte-level "cut" fault, on the
  faulty connections) once the first server literal of at least BYTES bytes (e.g. a message
  body) has all but its last R bytes forwarded: a source lost just before a message ends.

--stats FILE: JSON rewritten (atomically) after every fault (trickle chunks excepted), every
closed connection and at exit (stop the proxy before reading the final byte counts):
  {"connections", "refused", "closed", "bytes_c2s", "bytes_s2c", "upstream_errors",
   "faults": {"cut", "stall", "trickle", "tls_garbage", "refused", "throttle", "bye"},
   "faults_injected" (sum of faults), "commands" (verb -> count, IMAP mode), "throttled"
   (list of {"connection", "verb", "tag", "response"}), "events" (the first 200 byte-level
   faults and refusals: {"fault", "connection", "direction", "at" = bytes passed before it})}.
  "trickle" counts delayed chunks.
"""

import argparse
import asyncio
import collections
import ipaddress
import json
import os
import random
import re
import signal
import socket
import struct
import sys

CHUNK = 64 * 1024
MAX_EVENTS = 200  # fault events kept in the stats file (the counters go on)
LINE_LIMIT = 1024 * 1024  # longest IMAP line parsed (longer ones are forwarded unparsed)
# A literal announcement at the end of a line: {n}, {n+} (RFC 7888) or ~{n} (RFC 3516).
LITERAL_RE = re.compile(rb"~?\{(\d+)(\+?)\}\r?\n\Z")
CAPABILITY_LINE_RE = re.compile(rb"^(\S+ (?:OK|PREAUTH) \[CAPABILITY |\* CAPABILITY )", re.I)


class Stats:
    def __init__(self, path):
        self.path = path
        self.data = {
            "connections": 0, "refused": 0, "closed": 0, "bytes_c2s": 0, "bytes_s2c": 0,
            "upstream_errors": 0,
            "faults": {"cut": 0, "stall": 0, "trickle": 0, "tls_garbage": 0, "refused": 0,
                       "throttle": 0, "bye": 0},
            "faults_injected": 0, "commands": {}, "throttled": [], "events": [],
        }

    def fault(self, kind, write=True, **where):
        self.data["faults"][kind] += 1
        self.data["faults_injected"] += 1
        if where and len(self.data["events"]) < MAX_EVENTS:
            self.data["events"].append(dict(where, fault=kind))
        if write:
            self.write()

    def write(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


class ThrottleRule:
    def __init__(self, spec):
        parts = spec.split(":", 2)
        if len(parts) != 3 or not parts[0].strip() or not parts[2].strip():
            raise ValueError("--throttle-imap wants VERB:K:RESPONSE, got %r" % spec)
        self.verb = " ".join(parts[0].upper().split())
        self.k = int(parts[1])
        if self.k < 1:
            raise ValueError("--throttle-imap: K must be at least 1 in %r" % spec)
        self.response = parts[2].strip()
        self.seen = 0


class Link:
    """One proxied connection: the two sockets and what the fault plan says about it."""

    def __init__(self, index, faulty, rng, creader, cwriter, sreader, swriter):
        self.index = index
        self.faulty = faulty
        self.rng = rng
        self.creader, self.cwriter = creader, cwriter
        self.sreader, self.swriter = sreader, swriter
        self.closed = asyncio.Event()
        self.client_lock = asyncio.Lock()  # one writer at a time towards the client (IMAP mode)
        self.literal_cut_done = False

    def abort(self, rst=False):
        if self.closed.is_set():
            return
        self.closed.set()
        for w in (self.cwriter, self.swriter):
            if rst:
                sock = w.get_extra_info("socket")
                if sock is not None:
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
                    except OSError:
                        pass
            w.close()


class Shaper:
    """Forwards one direction of a link, applying the byte-count faults planned for it."""

    def __init__(self, proxy, link, name, writer):
        self.proxy, self.link, self.name, self.writer = proxy, link, name, writer
        self.passed = 0
        self.events = []  # (position, kind), sorted: fire once `passed` reaches position
        self.trickle = 0
        self.shared = False  # --trickle-total: self.trickle is the proxy's, not this link's
        a = proxy.args
        # --rtt-ms: this direction's share of the round trip, and its queue of (due, bytes).
        self.delay = a.rtt_ms / 2000.0 if a.rtt_ms else 0.0
        self.delayed = collections.deque()
        self.delayed_bytes = 0
        self.delayed_changed = asyncio.Event()  # something queued, sent or failed
        self.delay_sender = None
        self.delay_error = None
        if link.faulty and a.direction in (name, "both"):
            if a.cut_after is not None:
                n = a.cut_after
                if a.cut_jitter:
                    n = link.rng.randint(max(0, n // 2), n + n // 2)
                self.events.append((n, "cut"))
            if a.stall_after is not None:
                self.events.append((a.stall_after, "stall"))
            self.trickle = a.trickle or 0
            self.shared = bool(a.trickle_total)
            if self.shared:
                self.trickle = a.trickle_total
        if link.faulty and name == "s2c" and a.tls_garbage_after is not None:
            self.events.append((a.tls_garbage_after, "tls_garbage"))
        self.events.sort()

    async def send(self, data):
        while True:
            if self.link.closed.is_set():
                raise ConnectionAbortedError("link closed")
            if self.events and self.events[0][0] <= self.passed:
                await self.fire(self.events.pop(0)[1])
                continue
            if not data:
                return
            take = len(data)
            if self.events:
                take = min(take, self.events[0][0] - self.passed)
            await self.write(data[:take])
            self.passed += take
            self.proxy.stats.data["bytes_" + self.name] += take
            data = data[take:]

    async def write(self, data):
        if self.delay:
            await self.write_later(data)
            return
        await self.write_now(data)

    async def write_now(self, data):
        if not self.trickle:
            self.writer.write(data)
            await self.writer.drain()
            return
        rng = self.link.rng
        biggest = max(1, self.trickle // 8)
        while data:
            n = rng.randint(1, biggest)
            self.writer.write(data[:n])
            await self.writer.drain()
            data = data[n:]
            self.proxy.stats.data["faults"]["trickle"] += 1
            self.proxy.stats.data["faults_injected"] += 1
            if not self.shared:
                await asyncio.sleep(n / self.trickle)
                continue
            # One budget for every connection: each chunk takes the next n/BPS of the proxy's
            # time, after whatever other connections took before it.
            now = asyncio.get_running_loop().time()
            start = max(now, self.proxy.shared_free_at)
            self.proxy.shared_free_at = start + n / self.trickle
            await asyncio.sleep(self.proxy.shared_free_at - now)

    async def write_later(self, data):
        """--rtt-ms: queues `data` to leave `delay` seconds from now, behind what is queued;
        waits first while the window (--window bytes) is full, so the sender is slowed the way
        TCP would slow it on a long link."""
        if self.delay_sender is None:
            self.delay_sender = asyncio.ensure_future(self.send_delayed())
        while self.delayed_bytes >= self.proxy.args.window and self.delay_error is None:
            self.delayed_changed.clear()
            await self.delayed_changed.wait()
        if self.delay_error is not None:
            raise self.delay_error
        self.delayed.append((asyncio.get_running_loop().time() + self.delay, data))
        self.delayed_bytes += len(data)
        self.delayed_changed.set()

    async def send_delayed(self):
        loop = asyncio.get_running_loop()
        try:
            while True:
                while not self.delayed:
                    self.delayed_changed.clear()
                    await self.delayed_changed.wait()
                due, data = self.delayed[0]
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
                await self.write_now(data)
                self.delayed.popleft()
                self.delayed_bytes -= len(data)
                self.delayed_changed.set()
        except (ConnectionError, OSError) as e:
            self.delay_error = e
            self.delayed_changed.set()
            self.link.abort()

    async def flush(self):
        """Waits until every delayed byte has left (the sender's EOF must not overtake them)."""
        while self.delayed and self.delay_error is None and not self.link.closed.is_set():
            self.delayed_changed.clear()
            await self.delayed_changed.wait()

    def stop(self):
        if self.delay_sender is not None:
            self.delay_sender.cancel()

    async def fire(self, kind):
        a = self.proxy.args
        self.proxy.stats.fault(kind, connection=self.link.index, direction=self.name,
                               at=self.passed)
        self.proxy.log("connection %d: %s after %d bytes %s" % (self.link.index, kind,
                                                                self.passed, self.name))
        if kind == "cut":
            self.link.abort(rst=a.cut_rst)
            raise ConnectionAbortedError("cut")
        if kind == "stall":
            forever = a.stall_seconds is None or a.stall_seconds < 0
            deadline = asyncio.get_running_loop().time() + (0 if forever else a.stall_seconds)
            # Nothing reads while we stall, so watch both sockets for the other side going
            # away (the client timing out), or the link would hang until the server's own
            # idle timeout.
            while forever or asyncio.get_running_loop().time() < deadline:
                if self.link.closed.is_set():
                    break
                if peer_gone(self.link.creader) or peer_gone(self.link.sreader):
                    self.link.abort()
                    break
                await asyncio.sleep(0.05)
            return
        if kind == "tls_garbage":
            self.writer.write(bytes(self.link.rng.getrandbits(8) for _ in range(a.garbage_bytes)))
            await self.writer.drain()


class Proxy:
    def __init__(self, args):
        self.args = args
        self.stats = Stats(args.stats)
        self.rules = [ThrottleRule(s) for s in args.throttle_imap]
        self.imap = bool(self.rules) or args.imap or args.cut_before_literal_end is not None
        self.strip = {c.upper().encode() for c in args.strip_capability}
        if self.imap:
            self.strip |= {b"STARTTLS", b"COMPRESS=DEFLATE"}
        self.count = 0
        self.shared_free_at = 0.0  # --trickle-total: when the shared budget is free again
        self.selected = 0  # connections chosen by --every so far

    def log(self, text):
        if self.args.verbose:
            print("fault_proxy: " + text, file=sys.stderr, flush=True)

    def refused(self, i):
        a = self.args
        return bool((a.refuse_every and i % a.refuse_every == 0) or
                    (a.refuse_first and i <= a.refuse_first) or
                    (a.refuse_after is not None and i > a.refuse_after))

    def is_faulty(self, i):
        a = self.args
        if a.every and i % a.every != 0:
            return False
        if a.faulty_connections and self.selected >= a.faulty_connections:
            return False
        self.selected += 1
        return True

    async def handle(self, creader, cwriter):
        self.count += 1
        i = self.count
        self.stats.data["connections"] += 1
        if self.refused(i):
            self.stats.data["refused"] += 1
            self.log("connection %d: refused" % i)
            cwriter.close()
            self.stats.fault("refused", connection=i)
            return
        faulty = self.is_faulty(i)
        try:
            sreader, swriter = await asyncio.open_connection(
                self.args.target_host, self.args.target, limit=LINE_LIMIT)
        except OSError as e:
            self.log("connection %d: cannot reach the target: %s" % (i, e))
            self.stats.data["upstream_errors"] += 1
            cwriter.close()
            self.stats.write()
            return
        link = Link(i, faulty, random.Random("%d:%d" % (self.args.seed, i)),
                    creader, cwriter, sreader, swriter)
        c2s = Shaper(self, link, "c2s", swriter)
        s2c = Shaper(self, link, "s2c", cwriter)
        if self.imap:
            up = asyncio.ensure_future(self.imap_client_to_server(link, c2s, s2c))
            down = asyncio.ensure_future(self.imap_server_to_client(link, s2c))
        else:
            up = asyncio.ensure_future(self.pump(creader, c2s))
            down = asyncio.ensure_future(self.pump(sreader, s2c))
        # The client's EOF ends the connection too: IMAP clients never half-close, and a
        # client that gave up on a stalled link must not leave the server side hanging.
        up.add_done_callback(lambda _f: link.abort())
        try:
            await down  # the server's end (or a fault) ends the connection
        except Exception:  # noqa: BLE001 - any error here just ends this one connection
            pass
        link.abort()
        up.cancel()
        try:
            await up
        except BaseException:  # noqa: BLE001
            pass
        c2s.stop()
        s2c.stop()
        self.stats.data["closed"] += 1
        self.stats.write()

    @staticmethod
    async def pump(reader, shaper):
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    await shaper.flush()
                    return
                await shaper.send(data)
        except (ConnectionError, OSError):
            return

    # -- IMAP mode -------------------------------------------------------------------------

    @staticmethod
    async def read_line(reader):
        try:
            return await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as e:
            return e.partial
        except asyncio.LimitOverrunError as e:
            return await reader.read(e.consumed)  # no parsing of absurd lines: pass them on

    @staticmethod
    def literal(line):
        m = LITERAL_RE.search(line)
        if not m:
            return None
        return int(m.group(1)), m.group(2) == b"+"

    def strip_capabilities(self, line):
        m = CAPABILITY_LINE_RE.match(line)
        if not m or not self.strip:
            return line
        head, rest = line[:m.end()], line[m.end():]
        end = rest.find(b"]") if not head.startswith(b"* CAPABILITY") else len(rest.rstrip())
        words, tail = rest[:end].split(b" "), rest[end:]
        kept = [w for w in words if w.upper() not in self.strip]
        return head + b" ".join(kept) + tail

    async def copy_literal(self, reader, shaper, n):
        while n > 0:
            data = await reader.read(min(n, CHUNK))
            if not data:
                raise ConnectionError("EOF inside a literal")
            n -= len(data)
            if shaper is not None:
                await shaper.send(data)

    async def imap_server_to_client(self, link, s2c):
        try:
            while True:
                line = await self.read_line(link.sreader)
                if not line:
                    return
                # A response with its literals goes out whole, so an injected answer never
                # lands inside one.
                async with link.client_lock:
                    line = self.strip_capabilities(line)
                    await s2c.send(line)
                    while (lit := self.literal(line)) is not None:
                        keep = self.literal_cut(link, lit[0])
                        await self.copy_literal(link.sreader, s2c, lit[0] - (keep or 0))
                        if keep is not None:
                            await s2c.fire("cut")
                        line = await self.read_line(link.sreader)
                        if not line:
                            return
                        await s2c.send(line)
        except (ConnectionError, OSError):
            return

    def literal_cut(self, link, size):
        """--cut-before-literal-end R: how many bytes of this server literal to hold back
        before cutting (None: forward it whole)."""
        a = self.args
        if (a.cut_before_literal_end is None or not link.faulty or link.literal_cut_done or
                size < max(a.literal_min, a.cut_before_literal_end)):
            return None
        link.literal_cut_done = True
        return a.cut_before_literal_end

    async def inject(self, link, data):
        async with link.client_lock:
            link.cwriter.write(data)
            await link.cwriter.drain()

    def match_rule(self, verb):
        for rule in self.rules:
            if rule.verb != verb:
                continue
            rule.seen += 1
            if rule.seen == rule.k or (self.args.throttle_every and rule.seen % rule.k == 0):
                return rule
        return None

    async def imap_client_to_server(self, link, c2s, s2c):
        try:
            while True:
                line = await self.read_line(link.creader)
                if not line:
                    return
                words = line.split(None, 3)
                tag = words[0].decode("ascii", "replace") if words else ""
                verb = words[1].upper().decode("ascii", "replace") if len(words) > 1 else ""
                if verb == "UID" and len(words) > 2:
                    verb += " " + words[2].upper().decode("ascii", "replace")
                verb = verb.rstrip("\r\n")
                rule = None
                if len(words) > 1:
                    commands = self.stats.data["commands"]
                    commands[verb] = commands.get(verb, 0) + 1
                    rule = self.match_rule(verb)
                if rule is None:
                    await c2s.send(line)
                    while (lit := self.literal(line)) is not None:
                        await self.copy_literal(link.creader, c2s, lit[0])
                        line = await self.read_line(link.creader)
                        if not line:
                            return
                        await c2s.send(line)
                    continue
                # Answer this command ourselves: swallow it and all its literals.
                while (lit := self.literal(line)) is not None:
                    if not lit[1]:
                        await self.inject(link, b"+ go ahead\r\n")
                    await self.copy_literal(link.creader, None, lit[0])
                    line = await self.read_line(link.creader)
                    if not line:
                        return
                self.stats.data["throttled"].append(
                    {"connection": link.index, "verb": verb, "tag": tag,
                     "response": rule.response})
                self.log("connection %d: answered %s %s with %s" % (link.index, tag, verb,
                                                                     rule.response))
                await self.inject(link, ("%s %s\r\n" % (tag, rule.response)).encode())
                self.stats.fault("throttle")
                if self.args.throttle_bye is not None:
                    await self.inject(link, ("* BYE %s\r\n" % self.args.throttle_bye).encode())
                    self.stats.fault("bye")
                    link.abort()
                    return
        except (ConnectionError, OSError):
            return


def peer_gone(reader):
    """True once the peer closed or reset its side (StreamReader has no public test for EOF
    while unread data is still buffered)."""
    return bool(getattr(reader, "_eof", False) or reader.exception() is not None)


def loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv):
    p = argparse.ArgumentParser(description="Fault-injecting TCP proxy for mailferry's tests "
                                "(loopback only); see the header of this file.")
    p.add_argument("--target", type=int, required=True, help="port of the real server")
    p.add_argument("--target-host", default="127.0.0.1", help="loopback address of the server")
    p.add_argument("--listen-host", default="127.0.0.1")
    p.add_argument("--listen-port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--stats", help="JSON stats file, rewritten after every fault")
    p.add_argument("--verbose", "-v", action="store_true", help="log faults on stderr")
    p.add_argument("--direction", choices=["s2c", "c2s", "both"], default="s2c")
    p.add_argument("--faulty-connections", type=int, default=0, metavar="K",
                   help="at most K connections get the byte faults (0 = all)")
    p.add_argument("--every", type=int, default=0, metavar="K",
                   help="only every K-th connection gets the byte faults")
    p.add_argument("--cut-after", type=int, metavar="N")
    p.add_argument("--cut-jitter", action="store_true")
    p.add_argument("--cut-rst", action="store_true")
    p.add_argument("--stall-after", type=int, metavar="N")
    p.add_argument("--stall-seconds", type=float, default=None,
                   help="seconds to stall (default, or negative: until the client closes)")
    p.add_argument("--trickle", type=int, metavar="BYTES_PER_SEC")
    p.add_argument("--trickle-total", type=int, metavar="BYTES_PER_SEC")
    p.add_argument("--rtt-ms", type=float, default=0, metavar="MS",
                   help="add MS of round-trip time to every connection (MS/2 each way)")
    p.add_argument("--window", type=int, default=4 << 20, metavar="BYTES",
                   help="with --rtt-ms: bytes in flight per direction (default 4 MiB)")
    p.add_argument("--tls-garbage-after", type=int, metavar="N")
    p.add_argument("--garbage-bytes", type=int, default=16)
    p.add_argument("--refuse-every", type=int, default=0, metavar="K")
    p.add_argument("--refuse-first", type=int, default=0, metavar="M")
    p.add_argument("--refuse-after", type=int, default=None, metavar="M")
    p.add_argument("--throttle-imap", action="append", default=[], metavar="VERB:K:RESPONSE")
    p.add_argument("--throttle-every", action="store_true")
    p.add_argument("--throttle-bye", metavar="TEXT")
    p.add_argument("--strip-capability", action="append", default=[], metavar="NAME")
    p.add_argument("--cut-before-literal-end", type=int, metavar="R",
                   help="IMAP mode: cut the connection when the first server literal of at "
                   "least --literal-min bytes has R bytes left")
    p.add_argument("--literal-min", type=int, default=1, metavar="BYTES")
    p.add_argument("--imap", action="store_true", help="parse IMAP (count commands)")
    args = p.parse_args(argv)
    for name in ("target_host", "listen_host"):
        if not loopback(getattr(args, name)):
            p.error("--%s must be a loopback address (127.0.0.0/8, ::1 or localhost), not %r"
                    % (name.replace("_", "-"), getattr(args, name)))
    if args.trickle is not None and args.trickle <= 0:
        p.error("--trickle must be positive")
    if args.trickle_total is not None and args.trickle_total <= 0:
        p.error("--trickle-total must be positive")
    if args.trickle and args.trickle_total:
        p.error("--trickle and --trickle-total exclude each other")
    if args.rtt_ms < 0 or args.window <= 0:
        p.error("--rtt-ms must not be negative and --window must be positive")
    if args.rtt_ms and (args.throttle_imap or args.imap or args.cut_before_literal_end is not None):
        # The IMAP mode answers the client itself, which would overtake the delayed bytes.
        p.error("--rtt-ms cannot be combined with the IMAP mode")
    return args


async def main(argv):
    args = parse_args(argv)
    try:
        proxy = Proxy(args)
    except ValueError as e:
        print("fault_proxy: %s" % e, file=sys.stderr)
        return 2
    server = await asyncio.start_server(proxy.handle, args.listen_host, args.listen_port,
                                        limit=LINE_LIMIT)
    port = server.sockets[0].getsockname()[1]
    proxy.stats.write()
    print("PORT %d" % port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    proxy.stats.write()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
