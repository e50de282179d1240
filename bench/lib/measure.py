#!/usr/bin/env python3
"""Runs one measured step of bench/run and writes what it cost as JSON.

Usage: measure.py SPEC.json RESULT.json
       measure.py --settle BASE_DIR      wait until that Dovecot instance has no imap session

SPEC: {"commands": [{"argv": [...], "env": {...}, "log": "FILE"}, ...],
       "servers": {"src": "BASE_DIR", "dst": "BASE_DIR"}}
All commands start together (one for a single migration, four for the parallel scenario) and
the step ends when the last one exits. RESULT:
  wall_s          from the first start to the last exit
  client_cpu_s    user + system CPU of every command and all its descendants (wait4 rusage)
  client_user_s, client_sys_s
  peak_rss_kb     the largest maximum resident set size of any one command: ru_maxrss of the
                  command's process tree (the largest single process in it), as reported by
                  GNU time, which starts the command. Why not our own wait4(): Linux carries a
                  process's pre-exec high-water mark across exec, so a command forked from this
                  Python process would report at least Python's ~14 MB; forked from
                  /usr/bin/time it carries that small program's ~2 MB, a floor to keep in mind.
  rss_kb          per command
  server_cpu_s    {"src": s, "dst": s}: CPU consumed by each Dovecot instance meanwhile: its
                  master, every child (imap, imap-login, auth, ...) alive at either end, and the
                  children that exited in between (accounted to the master as cutime/cstime).
                  After the commands exit we wait (untimed) until the instance has no imap
                  session process left, so the work of a session that is still logging out or
                  writing its index is counted.
  exit_codes      per command; non-zero makes measure.py exit 1.
  load1           the 1-minute load average when the step started (other work on the machine
                  shows here: the results are only as steady as the machine was)
Dovecot's own processes are found from base_dir/master.pid; nothing else is inspected.
Each command runs in a process group of its own; on SIGTERM or SIGINT measure.py kills those
groups (by the PIDs it started) and exits, so an interrupted bench/run leaves no tool behind.
"""

import json
import os
import signal
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
GNU_TIME = "/usr/bin/time"


def stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    # comm may contain spaces: fields after the closing parenthesis.
    rest = s[s.rindex(")") + 2:].split()
    return s[s.index("(") + 1:s.rindex(")")], rest


def children_of(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            comm, f = stat_fields(int(d))
        except (OSError, ValueError):
            continue
        if int(f[1]) == ppid:
            out.append((int(d), comm, f))
    return out


def master_pid(base_dir):
    with open(os.path.join(base_dir, "master.pid")) as f:
        return int(f.read().strip())


def server_cpu(base_dir):
    """(CPU ticks of the instance so far, number of imap session processes)."""
    pid = master_pid(base_dir)
    _, f = stat_fields(pid)
    # utime stime cutime cstime are fields 14-17 of stat, i.e. rest[11:15].
    ticks = sum(int(x) for x in f[11:15])
    sessions = 0
    for _, comm, cf in children_of(pid):
        ticks += sum(int(x) for x in cf[11:15])
        if comm == "imap":
            sessions += 1
    return ticks, sessions


def settle(base_dir, timeout=10.0):
    """CPU ticks once the instance has no imap session left and its count is stable.

    A session that exits while we read /proc is briefly in neither place (no longer a child,
    not yet reaped into the master's cutime), so two equal readings 50 ms apart are required."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        ticks, sessions = server_cpu(base_dir)
        if sessions == 0 and ticks == last:
            return ticks
        if time.monotonic() > deadline:
            return ticks
        last = ticks if sessions == 0 else None
        time.sleep(0.05)


def main():
    if sys.argv[1] == "--settle":
        settle(sys.argv[2])
        return 0
    spec_path, result_path = sys.argv[1:3]
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit("measure.py: %s not found: apt-get install time" % GNU_TIME)
    with open(spec_path) as f:
        spec = json.load(f)
    servers = spec.get("servers", {})
    before = {name: settle(base) for name, base in servers.items()}
    procs = []

    def stop(signum, _frame):
        for p in procs:
            if p.returncode is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open("/proc/loadavg") as f:
        load1 = float(f.read().split()[0])
    t0 = time.monotonic()
    rss_files = []
    for i, c in enumerate(spec["commands"]):
        env = dict(os.environ)
        env.update(c.get("env", {}))
        log = open(c["log"], "wb") if c.get("log") else subprocess.DEVNULL
        rss_file = result_path + ".rss%d" % i
        rss_files.append(rss_file)
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file] + c["argv"]
        procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True))
    results = {}
    by_pid = {p.pid: p for p in procs}
    while len(results) < len(procs):
        pid, status, ru = os.wait4(-1, 0)
        if pid not in by_pid:
            continue
        results[pid] = (os.waitstatus_to_exitcode(status), ru, time.monotonic())
        by_pid[pid].returncode = results[pid][0]  # reaped here, not by Popen
    wall = max(r[2] for r in results.values()) - t0
    after = {name: settle(base) for name, base in servers.items()}
    rus = [results[p.pid][1] for p in procs]
    rss = []
    for f in rss_files:
        with open(f) as fh:
            # GNU time writes "Command exited with non-zero status N" before the format.
            rss.append(int(fh.read().split()[-1]))
        os.unlink(f)
    out = {
        "wall_s": round(wall, 4),
        "client_user_s": round(sum(r.ru_utime for r in rus), 4),
        "client_sys_s": round(sum(r.ru_stime for r in rus), 4),
        "client_cpu_s": round(sum(r.ru_utime + r.ru_stime for r in rus), 4),
        "peak_rss_kb": max(rss),
        "rss_kb": rss,
        "server_cpu_s": {n: round((after[n] - before[n]) / TICK, 3) for n in servers},
        "exit_codes": [results[p.pid][0] for p in procs],
        "load1": load1,
    }
    with open(result_path, "w") as f:
        json.dump(out, f)
    return 0 if all(c == 0 for c in out["exit_codes"]) else 1


if __name__ == "__main__":
    sys.exit(main())
