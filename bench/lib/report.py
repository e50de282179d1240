#!/usr/bin/env python3
"""Turns bench/run's results.jsonl into the results tables (Markdown) and an optional JSON file.

Usage: report.py RESULTS.jsonl META.json [--json OUT.json] > report.md

Per scenario and tool: the median and [min-max] over the repetitions of wall time, client CPU
(user+sys of the tool's processes), peak RSS of one client process, destination- and
source-server CPU, and all three added up (doveadm writes the destination's Maildir itself, so
its destination work is in its client CPU: "all CPU" is the comparable figure); messages/s and
MB/s from the median wall time (MB = 10^6 bytes); and how
many runs verified. Then mailferry's median wall time as a multiple of each peer's and of the
raw streaming limit, and the issue's targets, each marked met or missed with its numbers.
"""

import argparse
import json
import statistics
import sys

TOOLS = ["mailferry", "mailferry-b", "mbsync", "doveadm", "raw"]
SCENARIOS = [
    ("full", "Full migration"),
    ("noop", "No-op re-run (right after the full migration, same state)"),
    ("add1", "Re-run after adding new messages (1%)"),
    ("parallel", "Mailboxes migrated in parallel (one process per mailbox, all from one source server to one destination server)"),
    ("big", "One mailbox holding one big message"),
    ("onefolder", "One mailbox with every message in INBOX (the full corpus's messages in one folder)"),
]
TOOL_NAMES = {"mailferry": "mailferry", "mailferry-b": "mailferry B (candidate)", "mbsync": "mbsync (isync)",
              "doveadm": "doveadm backup imapc", "raw": "raw limit"}


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt(s, digits=2, scale=1.0):
    if s is None:
        return "-"
    f = "%%.%df" % digits
    med = f % (s["median"] * scale)
    if len(set((s["min"], s["max"]))) == 1:
        return med
    return "%s [%s–%s]" % (med, f % (s["min"] * scale), f % (s["max"] * scale))


def aggregate(rows):
    out = {}
    for r in rows:
        out.setdefault(r["scenario"], {}).setdefault(r["tool"], []).append(r)
    agg = {}
    for scen, tools in out.items():
        for tool, runs in tools.items():
            a = {
                "runs": len(runs),
                "verified": sum(1 for r in runs if r.get("verified")),
                "failed": sum(1 for r in runs if any(c != 0 for c in r["exit_codes"])),
                "wall_s": stats([r["wall_s"] for r in runs]),
                "client_cpu_s": stats([r["client_cpu_s"] for r in runs]),
                "peak_rss_mb": stats([r["peak_rss_kb"] / 1024 for r in runs]),
                "dst_cpu_s": stats([r["server_cpu_s"].get("dst") for r in runs]),
                "src_cpu_s": stats([r["server_cpu_s"].get("src") for r in runs]),
                "total_cpu_s": stats([r["client_cpu_s"] + sum(r["server_cpu_s"].values())
                                      for r in runs if r["client_cpu_s"] is not None]),
                "messages": runs[0].get("messages", 0),
                "bytes": runs[0].get("bytes", 0),
                "mailboxes": runs[0].get("mailboxes", 1),
                "x_tuid": max(r.get("x_tuid_stripped", 0) for r in runs),
                "keywords_lost": max(r.get("keywords_lost", 0) for r in runs),
                "load1": stats([r.get("load1") for r in runs]),
            }
            w = a["wall_s"]["median"]
            a["msgs_per_s"] = a["messages"] / w if w and a["messages"] else None
            a["mb_per_s"] = a["bytes"] / 1e6 / w if w and a["bytes"] else None
            agg.setdefault(scen, {})[tool] = a
    return agg


def ratio(agg, scen, a, b, key="wall_s"):
    try:
        x, y = agg[scen][a][key]["median"], agg[scen][b][key]["median"]
    except (KeyError, TypeError):
        return None
    return x / y if y else None


def targets(agg):
    """The issue's targets: (description, value, limit, met) for those that can be judged."""
    out = []

    def add(desc, value, limit, kind="ratio"):
        if value is None:
            return
        met = value < limit if kind == "below" else value <= limit
        out.append({"target": desc, "value": value, "limit": limit, "met": met, "kind": kind})

    add("full: time vs mbsync", ratio(agg, "full", "mailferry", "mbsync"), 0.4)
    add("full: time vs doveadm imapc", ratio(agg, "full", "mailferry", "doveadm"), 1.0)
    add("full: time vs raw streaming limit", ratio(agg, "full", "mailferry", "raw"), 1.15)
    add("no-op re-run: time vs mbsync", ratio(agg, "noop", "mailferry", "mbsync"), 1.0)
    add("+1% re-run: time vs mbsync", ratio(agg, "add1", "mailferry", "mbsync"), 1.0)
    rss = [a["peak_rss_mb"]["max"] for s in agg.values() for t, a in s.items()
           if t == "mailferry" and a["peak_rss_mb"]]
    if rss:
        add("peak RSS, any scenario (MB)", max(rss), 32, kind="below")
    add("full: client CPU vs mbsync", ratio(agg, "full", "mailferry", "mbsync", "client_cpu_s"),
        1.0)
    add("parallel: time vs parallel mbsync", ratio(agg, "parallel", "mailferry", "mbsync"), 0.4)
    add("parallel: time vs parallel doveadm imapc",
        ratio(agg, "parallel", "mailferry", "doveadm"), 1.0)
    return out


def link_of(meta):
    """What the tools' connections went through, when it is not plain IMAP on loopback."""
    parts = []
    if meta.get("tls"):
        parts.append("TLS (imaps)")
    if meta.get("rtt_ms"):
        parts.append("a %d ms round trip (fault_proxy)" % meta["rtt_ms"])
    return " and ".join(parts)


def render(agg, meta):
    lines = []
    p = lines.append
    link = link_of(meta)
    if link:
        p("Connections: %s." % link)
        p("")
    for scen, title in SCENARIOS:
        if scen not in agg:
            continue
        tools = [t for t in TOOLS if t in agg[scen]]
        any_tool = agg[scen][tools[0]]
        what = "%d messages, %.1f MB" % (any_tool["messages"], any_tool["bytes"] / 1e6)
        if any_tool["mailboxes"] > 1:
            what = "%d mailboxes, %s in all" % (any_tool["mailboxes"], what)
        if scen == "noop":
            what = "nothing new to copy"
        p("### %s — %s" % (title, what))
        p("")
        p("| tool | wall s | msg/s | MB/s | client CPU s | peak RSS MB | dst server CPU s "
          "| src server CPU s | all CPU s | verified |")
        p("|---|---|---|---|---|---|---|---|---|---|")
        for t in tools:
            a = agg[scen][t]
            ver = "%d/%d" % (a["verified"], a["runs"])
            notes = []
            if a["x_tuid"]:
                notes.append("X-TUID header added")
            if a["keywords_lost"]:
                notes.append("keywords lost on %d msgs" % a["keywords_lost"])
            if notes:
                ver += " (" + ", ".join(notes) + ")"
            p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                TOOL_NAMES[t], fmt(a["wall_s"]),
                "%.0f" % a["msgs_per_s"] if a["msgs_per_s"] else "-",
                "%.1f" % a["mb_per_s"] if a["mb_per_s"] else "-",
                fmt(a["client_cpu_s"]), fmt(a["peak_rss_mb"], 1), fmt(a["dst_cpu_s"]),
                fmt(a["src_cpu_s"]), fmt(a["total_cpu_s"]), ver))
        if "mailferry" in agg[scen]:
            rs = []
            for t in tools:
                if t == "mailferry":
                    continue
                r = ratio(agg, scen, "mailferry", t)
                if r is not None:
                    rs.append("%.2fx %s" % (r, TOOL_NAMES[t]))
            if rs:
                p("")
                p("mailferry's median wall time: " + ", ".join(rs) + ".")
        p("")
    loads = [r for s in agg.values() for a in s.values() for r in [a["load1"]] if r]
    if loads:
        p("Load average (1 min) at the start of the measured runs: %.2f–%.2f (%d cores)." % (
            min(x["min"] for x in loads), max(x["max"] for x in loads), meta.get("nproc", 0)))
        p("")
    tg = targets(agg)
    if tg:
        p("### Targets (medians of this run)")
        p("")
        link = link_of(meta)
        if link:
            p("This run is over %s: the issue sets these targets for plain IMAP on loopback, "
              "so here they are for reference only." % link)
            p("")
        p("| target | limit | measured | |")
        p("|---|---|---|---|")
        for t in tg:
            if t["kind"] == "below":
                lim, val = "< %g" % t["limit"], "%.1f" % t["value"]
            else:
                lim, val = "≤ %.2fx" % t["limit"], "%.2fx" % t["value"]
            p("| %s | %s | %s | %s |" % (t["target"], lim, val, "met" if t["met"] else "MISSED"))
        p("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("meta")
    ap.add_argument("--json")
    a = ap.parse_args()
    with open(a.results) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    with open(a.meta) as f:
        meta = json.load(f)
    agg = aggregate(rows)
    sys.stdout.write(render(agg, meta) + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "scenarios": agg, "targets": targets(agg), "runs": rows}, f,
                      indent=1)


if __name__ == "__main__":
    main()
