#!/usr/bin/env python3
"""Builds the command lines bench/run measures, one per tool, as a measure.py SPEC file.

Usage: tools.py --tool T --users alice[,bob...] --src INSTANCE_DIR --dst INSTANCE_DIR
                --state DIR --logs DIR --tag NAME [--src-port P] [--dst-port P]
                [--mailferry BIN] [--mailferry-arg OPT ...]
                [--mailferry-b BIN] [--mailferry-b-arg OPT ...] [--raw-limit BIN] [--tls]
                -o SPEC.json

Tools (over plain IMAP on loopback, the servers run with MF_DOVECOT_SSL=no; with --tls, see
below):
  mailferry  mailferry migrate --from imap://U@127.0.0.1:P --to imap://U@127.0.0.1:P
             --allow-plaintext --state DIR/mailferry-U.db --progress none
             (passwords in MAILFERRY_FROM_PASSWORD / MAILFERRY_TO_PASSWORD)
  mailferry-b the same with the --mailferry-b binary and options: a candidate measured beside
             mailferry in the same run, for tuning
  mbsync     mbsync -c DIR/mbsyncrc-U -a, with a channel Far = source, Near = destination,
             Patterns *, Create Near, Sync Pull, Expunge None, CopyArrivalDate yes (keeps the
             internal dates), SyncState in DIR, passwords by PassCmd from a file, and
             DisableExtensions COMPRESS=DEFLATE: the test servers offer COMPRESS (imap_zlib),
             and mbsync would otherwise deflate every uploaded byte, which on loopback with
             incompressible attachments costs it ~25 s of CPU for the default corpus (Dovecot's
             default configuration does not offer COMPRESS; the other tools do not use it).
  doveadm    doveadm -c DST/dovecot.conf -o imapc_host=127.0.0.1 -o imapc_port=P
             -o imapc_user=U -o imapc_password=... -o "imapc_features=rfc822.size fetch-headers"
             -o mail_prefetch_count=20 backup -R -u U imapc:
             (Dovecot's documented migration recipe; dsync runs in this process and writes the
             destination's Maildir directly, not over IMAP; mail_fsync is the instance's.)
  raw        raw_limit --from 127.0.0.1:P --to 127.0.0.1:P --user U (the streaming limit)
--tls: every tool connects to the ports given (the servers' imaps ports) over TLS and verifies
the servers' self-signed certificates against DIR/bench-ca.pem (both instances' cert.pem):
mailferry imaps://... --ca-file, mbsync SSLType IMAPS + CertificateFile, doveadm
imapc_ssl=imaps + ssl_client_ca_file, raw_limit --tls --ca-file.
Several users make several commands that measure.py starts together. --src-port/--dst-port:
the ports the tools connect to instead of the instances' own IMAP ports (bench/run --rtt-ms puts
a delaying proxy there).
"""

import argparse
import json
import os


def instance(d):
    with open(os.path.join(d, "instance.json")) as f:
        info = json.load(f)
    with open(os.path.join(d, "base_dir")) as f:
        info["base_dir"] = f.read().strip()
    return info


def mbsyncrc(path, user, pwfile, state, ports, ca_file):
    acct = ""
    ssl = "SSLType IMAPS\nCertificateFile %s\n" % ca_file if ca_file else "SSLType None\n"
    for name in ("src", "dst"):
        acct += ("IMAPAccount %s\nHost 127.0.0.1\nPort %d\nUser %s\nPassCmd \"cat %s\"\n"
                 "%sAuthMechs LOGIN\nDisableExtensions COMPRESS=DEFLATE\n\n"
                 "IMAPStore %s\nAccount %s\n\n" % (name, ports[name], user, pwfile, ssl, name,
                                                   name))
    with open(path, "w") as f:
        f.write(acct + "Channel bench\nFar :src:\nNear :dst:\nPatterns *\nCreate Near\n"
                "Sync Pull\nExpunge None\nCopyArrivalDate yes\nSyncState %s/\n" % state)


def ca_bundle(a, src, dst):
    """Both instances' self-signed certificates in one PEM file, trusted as CAs (--tls)."""
    path = os.path.join(a.state, "bench-ca.pem")
    with open(path, "w") as out:
        for inst in (src, dst):
            with open(inst["ca_file"]) as f:
                out.write(f.read())
    return path


def command(a, tool, user, src, dst):
    pw_src, pw_dst = src["users"][user], dst["users"][user]
    ca = ca_bundle(a, src, dst) if a.tls else None
    scheme = "imaps" if a.tls else "imap"
    log = os.path.join(a.logs, "%s-%s.log" % (a.tag, user))
    env = {"MAILFERRY_FROM_PASSWORD": pw_src, "MAILFERRY_TO_PASSWORD": pw_dst}
    sp, dp = a.src_port or src["imap_port"], a.dst_port or dst["imap_port"]
    if tool in ("mailferry", "mailferry-b"):
        binary, extra = ((a.mailferry, a.mailferry_arg) if tool == "mailferry"
                         else (a.mailferry_b, a.mailferry_b_arg))
        argv = [binary, "migrate", "--from", "%s://%s@127.0.0.1:%d" % (scheme, user, sp),
                "--to", "%s://%s@127.0.0.1:%d" % (scheme, user, dp)]
        argv += ["--ca-file", ca] if ca else ["--allow-plaintext"]
        argv += ["--state", os.path.join(a.state, "mailferry-%s.db" % user),
                 "--progress", "none"] + extra
    elif tool == "mbsync":
        if pw_src != pw_dst:
            raise SystemExit("tools.py: mbsync config assumes one password per user")
        pwfile = os.path.join(a.state, "pw-%s" % user)
        with open(pwfile, "w") as f:
            f.write(pw_src)
        os.chmod(pwfile, 0o600)
        state = os.path.join(a.state, "mbsync-%s" % user)
        os.makedirs(state, exist_ok=True)
        rc = os.path.join(a.state, "mbsyncrc-%s" % user)
        mbsyncrc(rc, user, pwfile, state, {"src": sp, "dst": dp}, ca)
        argv = ["mbsync", "-c", rc, "-a"]
    elif tool == "doveadm":
        argv = ["doveadm", "-c", dst["conf"], "-o", "imapc_host=127.0.0.1",
                "-o", "imapc_port=%d" % sp, "-o", "imapc_user=%s" % user,
                "-o", "imapc_password=%s" % pw_src]
        if ca:
            argv += ["-o", "imapc_ssl=imaps", "-o", "imapc_ssl_verify=yes",
                     "-o", "ssl_client_ca_file=%s" % ca]
        argv += ["-o", "imapc_features=rfc822.size fetch-headers",
                 "-o", "mail_prefetch_count=20", "backup", "-R", "-u", user, "imapc:"]
    elif tool == "raw":
        argv = [a.raw_limit, "--from", "127.0.0.1:%d" % sp, "--to", "127.0.0.1:%d" % dp,
                "--user", user]
        if ca:
            argv += ["--tls", "--ca-file", ca]
    else:
        raise SystemExit("tools.py: unknown tool %s" % tool)
    return {"argv": argv, "env": env, "log": log}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--users", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--src-port", type=int, help="connect here instead of the source's port")
    ap.add_argument("--dst-port", type=int, help="connect here instead of the destination's")
    ap.add_argument("--mailferry")
    ap.add_argument("--mailferry-arg", action="append", default=[],
                    help="extra mailferry migrate option (repeatable)")
    ap.add_argument("--mailferry-b")
    ap.add_argument("--mailferry-b-arg", action="append", default=[],
                    help="extra option for the mailferry-b candidate (repeatable)")
    ap.add_argument("--raw-limit")
    ap.add_argument("--tls", action="store_true", help="every tool over TLS (imaps ports)")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    src, dst = instance(a.src), instance(a.dst)
    os.makedirs(a.state, exist_ok=True)
    os.makedirs(a.logs, exist_ok=True)
    spec = {"commands": [command(a, a.tool, u, src, dst) for u in a.users.split(",")],
            "servers": {"src": src["base_dir"], "dst": dst["base_dir"]}}
    with open(a.output, "w") as f:
        json.dump(spec, f, indent=1)


if __name__ == "__main__":
    main()
