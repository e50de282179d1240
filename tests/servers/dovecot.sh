#!/usr/bin/env bash
# Starts and stops private Dovecot instances on loopback for mailferry's integration tests.
#
# Usage:
#   dovecot.sh start NAME FLAVOR IMAP_PORT IMAPS_PORT [POP3_PORT POP3S_PORT]
#   dovecot.sh stop NAME
#   dovecot.sh restart NAME        stop, then start again with the same arguments, keeping mail
#   dovecot.sh status NAME         exit 0 when running (prints the master PID)
#   dovecot.sh stop-all            stop every instance under MF_RUN_DIR
#   dovecot.sh purge NAME          stop, then delete the instance with its mail and logs
#   dovecot.sh free-ports N        print N currently free TCP ports on 127.0.0.1 (one a line)
#
# FLAVOR: slash        maildir LAYOUT=fs, separator "/", no prefix, SPECIAL-USE folders
#                      Drafts Sent Trash Junk Archive declared but not created (auto = no)
#         slash-auto   like slash, the SPECIAL-USE folders auto-created and subscribed
#         courier      Maildir++, prefix "INBOX.", separator ".", no SPECIAL-USE (Courier-like)
#
# Environment:
#   MF_RUN_DIR       run directory (default: <repo>/.run); instance lives in $MF_RUN_DIR/dovecot-NAME
#   MF_DOVECOT_KEEP  if 1, `start` keeps existing mail of the instance (default: wiped, fresh server)
#   MF_DOVECOT_SSL   if "no", `start` runs the instance without TLS: no STARTTLS/STLS offered and
#                    no imaps/pop3s listeners (their ports are still required but left unused).
#                    For benchmarks that compare tools over plain IMAP (bench/run). Default "yes";
#                    `restart` keeps the mode the instance was started with.
#   MF_DOVECOT_MAX_IMAP_CONNECTIONS
#                    IMAP sessions one user may hold from one IP (Dovecot's
#                    mail_max_userip_connections; default 200, Dovecot's own default is 10): a
#                    small number makes a server that refuses a run's extra connections.
#
# Every instance listens on 127.0.0.1 only. `start` returns once every port accepts connections
# (or prints the log and fails after ~10 s). Only processes this script started are ever signalled,
# by the PID in base_dir/master.pid after checking that it runs our configuration.
# See tests/servers/README.md for users, passwords and files.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/../.." && pwd)
RUN_DIR=${MF_RUN_DIR:-$REPO_DIR/.run}
[[ "$RUN_DIR" == /* ]] || RUN_DIR="$PWD/$RUN_DIR"
RUN_DIR=${RUN_DIR%/}
DOVECOT_BIN=${MF_DOVECOT_BIN:-/usr/sbin/dovecot}
START_TIMEOUT_S=10
STOP_TIMEOUT_S=10

die() { echo "dovecot.sh: $*" >&2; exit 1; }
say() { echo "dovecot.sh: $*"; }

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2; exit 2; }

check_name() {
  [[ "$1" =~ ^[A-Za-z0-9_.-]+$ && "$1" != .* ]] || die "bad instance name '$1' (use [A-Za-z0-9_.-])"
}

check_port() {
  if ! [[ "$1" =~ ^[0-9]+$ ]] || (( $1 < 1024 || $1 > 65535 )); then
    die "bad port '$1' (1024..65535)"
  fi
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

inst_dir() { echo "$RUN_DIR/dovecot-$1"; }

# Prints the master PID of instance dir $1 when it is alive and runs that instance's config.
running_pid() {
  local dir=$1 base pid
  [[ -f "$dir/base_dir" ]] || return 1
  base=$(<"$dir/base_dir")
  [[ -f "$base/master.pid" ]] || return 1
  pid=$(<"$base/master.pid")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  # The PID may have been reused: require our config file on its command line.
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$dir/dovecot.conf" || return 1
  echo "$pid"
}

# Short, private directory for things whose path length or access matters (unix sockets are
# limited to 107 bytes; mail homes must be reachable by the mail user).
side_dir() {
  local hash
  hash=$(printf '%s' "$1" | md5sum | cut -c1-12)
  echo "/tmp/mf-dovecot-$hash"
}

# True when user $1 can reach (search) directory $2 and every parent.
user_can_reach() {
  local user=$1 dir=$2
  runuser -u "$user" -- test -x "$dir" 2>/dev/null
}

# True when process $1 exists and is not a zombie (PID 1 here may not reap orphans).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# True when process $1 is a Dovecot process (master or child).
is_dovecot() {
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qE '(^|/)dovecot|^/usr/lib/dovecot/'
}

cmd_stop() {
  local name=$1 dir pid children c waited=0
  check_name "$name"
  dir=$(inst_dir "$name")
  [[ -d "$dir" ]] || { say "$name: no such instance under $RUN_DIR"; return 0; }
  if ! pid=$(running_pid "$dir"); then
    say "$name: not running"
    cleanup_side "$dir"
    return 0
  fi
  # Remember the children now: once the master is gone they are re-parented.
  children=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ' || true)
  say "$name: stopping master PID $pid"
  kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid"; do
    if (( waited >= STOP_TIMEOUT_S * 10 )); then
      say "$name: master $pid did not exit after ${STOP_TIMEOUT_S}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  # Children exit by themselves when the master dies; give them a moment, then force.
  waited=0
  for c in $children; do
    while alive "$c" && is_dovecot "$c" && (( waited < 30 )); do
      sleep 0.1; waited=$((waited + 1))
    done
    if alive "$c" && is_dovecot "$c"; then
      say "$name: child $c still alive; sending SIGKILL"
      kill -KILL "$c" 2>/dev/null || true
    fi
  done
  cleanup_side "$dir"
  say "$name: stopped"
}

# Removes the side directory holding base_dir when it is outside the instance dir.
cleanup_side() {
  local dir=$1 base
  [[ -f "$dir/base_dir" ]] || return 0
  base=$(<"$dir/base_dir")
  case "$base" in
    /tmp/mf-dovecot-*/run)
      rm -rf "$base"
      rmdir "${base%/run}" 2>/dev/null || true  # kept while it holds mail
      ;;
  esac
}

cmd_stop_all() {
  local d found=0
  [[ -d "$RUN_DIR" ]] || { say "no run directory $RUN_DIR"; return 0; }
  for d in "$RUN_DIR"/dovecot-*/; do
    [[ -d "$d" ]] || continue
    found=1
    cmd_stop "$(basename "$d" | sed 's/^dovecot-//')"
  done
  (( found )) || say "no instances under $RUN_DIR"
}

cmd_status() {
  local name=$1 dir pid
  check_name "$name"
  dir=$(inst_dir "$name")
  if pid=$(running_pid "$dir"); then
    echo "$name running pid=$pid $(cat "$dir/args" 2>/dev/null)"
    return 0
  fi
  echo "$name not running"
  return 1
}

write_namespace() {
  local flavor=$1
  case "$flavor" in
    slash|slash-auto)
      local auto=no
      [[ "$flavor" == slash-auto ]] && auto=subscribe
      cat <<EOF
mail_location = maildir:~/Maildir:LAYOUT=fs
namespace inbox {
  inbox = yes
  separator = /
  prefix =
  mailbox Drafts {
    special_use = \\Drafts
    auto = $auto
  }
  mailbox Sent {
    special_use = \\Sent
    auto = $auto
  }
  mailbox Trash {
    special_use = \\Trash
    auto = $auto
  }
  mailbox Junk {
    special_use = \\Junk
    auto = $auto
  }
  mailbox Archive {
    special_use = \\Archive
    auto = $auto
  }
  # Shows all mail, as Gmail's All Mail does (here a plain folder a test fills): never
  # created unless a test does.
  mailbox "All Mail" {
    special_use = \\All
    auto = no
  }
}
EOF
      ;;
    courier)
      # Courier-IMAP: Maildir++ on disk, everything under "INBOX." and no SPECIAL-USE.
      cat <<'EOF'
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = .
  prefix = INBOX.
}
EOF
      ;;
    *) die "unknown flavor '$flavor' (slash, slash-auto, courier)" ;;
  esac
}

cmd_start() {
  (( $# == 4 || $# == 6 )) || usage
  local name=$1 flavor=$2 imap_port=$3 imaps_port=$4 pop3_port=${5:-} pop3s_port=${6:-}
  check_name "$name"
  case "$flavor" in slash|slash-auto|courier) ;; *) die "unknown flavor '$flavor' (slash, slash-auto, courier)" ;; esac
  local ports=("$imap_port" "$imaps_port")
  [[ -n "$pop3_port" ]] && ports+=("$pop3_port" "$pop3s_port")
  local p
  for p in "${ports[@]}"; do check_port "$p"; done
  [[ $(printf '%s\n' "${ports[@]}" | sort -u | wc -l) -eq ${#ports[@]} ]] || die "ports must differ"
  local ssl=${MF_DOVECOT_SSL:-yes}
  case "$ssl" in yes|no) ;; *) die "MF_DOVECOT_SSL must be yes or no, not '$ssl'" ;; esac
  [[ "${MF_DOVECOT_MAX_IMAP_CONNECTIONS:-200}" =~ ^[1-9][0-9]*$ ]] ||
    die "MF_DOVECOT_MAX_IMAP_CONNECTIONS must be a positive number"
  if [[ "$ssl" == no ]]; then
    # Dovecot does not listen on ssl=yes listeners when ssl = no: wait only for the plain ones.
    ports=("$imap_port")
    [[ -n "$pop3_port" ]] && ports+=("$pop3_port")
  fi
  [[ -x "$DOVECOT_BIN" ]] || die "$DOVECOT_BIN not found: run scripts/install-deps"

  mkdir -p "$RUN_DIR"
  local dir
  dir=$(inst_dir "$name")

  if running_pid "$dir" >/dev/null; then
    say "$name: already running; restarting it"
    cmd_stop "$name"
  fi
  for p in "${ports[@]}"; do
    port_open "$p" && die "port $p on 127.0.0.1 is already in use (another server?)"
  done

  # Fresh instance directory (mail kept only on request).
  local keep=${MF_DOVECOT_KEEP:-0}
  if [[ -d "$dir" ]]; then
    if [[ "$keep" == 1 ]]; then
      find "$dir" -mindepth 1 -maxdepth 1 ! -name mail -exec rm -rf {} +
    else
      local old_side
      old_side=$(side_dir "$dir")
      rm -rf "$dir" "$old_side"
    fi
  fi
  mkdir -p "$dir" "$dir/state"
  chmod 0755 "$dir"

  # Who owns the mail.
  local mail_user mail_group internal_user internal_group login_user nonroot=0
  if [[ $(id -u) -eq 0 ]]; then
    mail_user=nobody; mail_group=nogroup
    internal_user=dovecot; internal_group=dovecot; login_user=dovenull
    if ! getent passwd dovecot >/dev/null || ! getent passwd dovenull >/dev/null; then
      die "users dovecot/dovenull missing: install dovecot-core (scripts/install-deps)"
    fi
  else
    nonroot=1
    mail_user=$(id -un); mail_group=$(id -gn)
    internal_user=$mail_user; internal_group=$mail_group; login_user=$mail_user
  fi
  local mail_uid mail_gid
  mail_uid=$(id -u "$mail_user"); mail_gid=$(getent group "$mail_group" | cut -d: -f3)

  # base_dir holds unix sockets: keep its path short (unix socket paths are limited to 107
  # bytes). As root, Dovecot's unprivileged users (nobody for mail, dovecot for auth, dovenull
  # for logins) must reach mail homes, password files and sockets; if a parent of the run dir is
  # closed to them (e.g. under /root), those live in a side dir in /tmp, symlinked from here.
  local side base_dir data_dir u
  side=$(side_dir "$dir")
  data_dir="$dir"
  base_dir="$dir/run"
  if (( ! nonroot )); then
    for u in "$mail_user" "$internal_user" "$login_user"; do
      if ! user_can_reach "$u" "$dir"; then
        say "$name: $dir is not reachable by user $u; using $side for mail, users and sockets"
        data_dir="$side"
        base_dir="$side/run"
        break
      fi
    done
  fi
  if (( ${#base_dir} > 60 )); then
    base_dir="$side/run"
  fi
  if [[ "$base_dir" == "$side"/* ]]; then
    mkdir -p "$side"
    chmod 0755 "$side"
  fi
  mkdir -p "$base_dir"
  chmod 0755 "$base_dir"
  echo "$base_dir" >"$dir/base_dir"

  local mail_root="$data_dir/mail" users_file="$data_dir/users" masters_file="$data_dir/masters"
  if [[ "$data_dir" != "$dir" ]]; then
    ln -sfn "$mail_root" "$dir/mail"
    ln -sfn "$users_file" "$dir/users"
    ln -sfn "$masters_file" "$dir/masters"
  fi
  mkdir -p "$mail_root"
  chown "$mail_uid:$mail_gid" "$mail_root"
  chmod 0700 "$mail_root"

  # Users: passwords stored {PLAIN} so CRAM-MD5 works. passwd-file takes the password field
  # verbatim (no escaping), so quotes, spaces and backslashes need nothing special.
  local bob_pw='b0b pw with "quotes" and \ backslash'
  {
    echo "alice:{PLAIN}alice-pw::::::"
    echo "bob:{PLAIN}${bob_pw}::::::"
    echo "carol:{PLAIN}carol-pw::::::"
    echo "dave:{PLAIN}dave-pw::::::"
  } >"$users_file"
  echo "admin:{PLAIN}admin-pw::::::" >"$masters_file"
  chmod 0644 "$users_file" "$masters_file"

  # Self-signed certificate for 127.0.0.1 / localhost; tests pass cert.pem as --ca-file.
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >"$dir/openssl.out" 2>&1 \
    || { cat "$dir/openssl.out" >&2; die "openssl req failed"; }
  chmod 0600 "$dir/key.pem"

  local protocols=imap
  [[ -n "$pop3_port" ]] && protocols="imap pop3"

  {
    cat <<EOF
# Generated by tests/servers/dovecot.sh for instance '$name' (flavor $flavor). Do not edit.
base_dir = $base_dir
state_dir = $dir/state
log_path = $dir/dovecot.log
instance_name = dovecot
protocols = $protocols
listen = 127.0.0.1
verbose_proctitle = yes
shutdown_clients = yes

default_internal_user = $internal_user
default_internal_group = $internal_group
default_login_user = $login_user

ssl = $ssl
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no

auth_mechanisms = plain login cram-md5
auth_master_user_separator = *
auth_verbose = yes
# Tests check wrong passwords; do not make each of them wait.
auth_failure_delay = 0

mail_uid = $mail_uid
mail_gid = $mail_gid
first_valid_uid = 1
first_valid_gid = 1
mail_plugins = \$mail_plugins zlib

# Master users first: "alice*admin" / admin-pw, or SASL PLAIN authzid=alice authcid=admin.
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $masters_file
  master = yes
  pass = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $users_file
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$mail_root/%u
}

EOF
    write_namespace "$flavor"
    cat <<EOF

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
EOF
    [[ "$ssl" == yes ]] && cat <<EOF
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps_port
    ssl = yes
  }
EOF
    (( nonroot )) && echo "  chroot ="
    echo "}"
    if [[ -n "$pop3_port" ]]; then
      cat <<EOF
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $pop3_port
  }
EOF
      [[ "$ssl" == yes ]] && cat <<EOF
  inet_listener pop3s {
    address = 127.0.0.1
    port = $pop3s_port
    ssl = yes
  }
EOF
      (( nonroot )) && echo "  chroot ="
      echo "}"
    fi
    cat <<EOF
protocol imap {
  mail_plugins = \$mail_plugins imap_zlib
  # Tests open many parallel sessions per user from 127.0.0.1.
  mail_max_userip_connections = ${MF_DOVECOT_MAX_IMAP_CONNECTIONS:-200}
}
pop3_uidl_format = %08Xu%08Xv
protocol pop3 {
  mail_max_userip_connections = 50
  # Dovecot marks RETR'd messages \Seen at QUIT by default; the tests check that a source
  # is left unchanged, so a POP3 read must not touch IMAP flags.
  pop3_no_flag_updates = yes
}
EOF
    if (( nonroot )); then
      # A non-root master cannot switch users: every service runs as the caller.
      cat <<EOF
service auth-worker {
  user = \$default_internal_user
}
service anvil {
  chroot =
}
EOF
    fi
  } >"$dir/dovecot.conf"

  echo "$flavor $imap_port $imaps_port $pop3_port $pop3s_port" >"$dir/args"
  echo "$ssl" >"$dir/ssl"
  cat >"$dir/instance.env" <<EOF
MF_DOVECOT_NAME=$name
MF_DOVECOT_FLAVOR=$flavor
MF_DOVECOT_IMAP_PORT=$imap_port
MF_DOVECOT_IMAPS_PORT=$imaps_port
MF_DOVECOT_POP3_PORT=$pop3_port
MF_DOVECOT_POP3S_PORT=$pop3s_port
MF_DOVECOT_CA_FILE=$dir/cert.pem
MF_DOVECOT_CONF=$dir/dovecot.conf
MF_DOVECOT_SSL=$ssl
EOF
  local sep=/ prefix=""
  [[ "$flavor" == courier ]] && { sep=.; prefix=INBOX.; }
  python3 - "$dir" "$name" "$flavor" "$imap_port" "$imaps_port" "$pop3_port" "$pop3s_port" \
    "$sep" "$prefix" "$ssl" <<'PY'
import json, sys
d, name, flavor, imap, imaps, pop3, pop3s, sep, prefix, ssl = sys.argv[1:]
info = {
    "name": name, "flavor": flavor, "host": "127.0.0.1",
    "imap_port": int(imap), "imaps_port": int(imaps),
    "pop3_port": int(pop3) if pop3 else None, "pop3s_port": int(pop3s) if pop3s else None,
    "ca_file": d + "/cert.pem", "conf": d + "/dovecot.conf", "log": d + "/dovecot.log",
    "separator": sep, "prefix": prefix,
    "users": {"alice": "alice-pw", "bob": 'b0b pw with "quotes" and \\ backslash',
              "carol": "carol-pw", "dave": "dave-pw"},
    "master_users": {"admin": "admin-pw"}, "master_separator": "*",
    "ssl": ssl == "yes",
}
with open(d + "/instance.json", "w") as f:
    json.dump(info, f, indent=2)
    f.write("\n")
PY

  : >"$dir/dovecot.log"
  if ! "$DOVECOT_BIN" -c "$dir/dovecot.conf" >"$dir/start.out" 2>&1; then
    cat "$dir/start.out" >&2
    echo "---- $dir/dovecot.log ----" >&2
    cat "$dir/dovecot.log" >&2
    die "$name: dovecot failed to start"
  fi

  # Wait until every port accepts connections and the master is ours and alive.
  local deadline=$((SECONDS + START_TIMEOUT_S)) pid="" ok
  while :; do
    ok=1
    pid=$(running_pid "$dir") || ok=0
    if (( ok )); then
      for p in "${ports[@]}"; do port_open "$p" || { ok=0; break; }; done
    fi
    (( ok )) && break
    if (( SECONDS >= deadline )); then
      echo "---- $dir/start.out ----" >&2; cat "$dir/start.out" >&2
      echo "---- $dir/dovecot.log ----" >&2; cat "$dir/dovecot.log" >&2
      [[ -n "$pid" ]] && cmd_stop "$name" >&2
      die "$name: not accepting connections on ${ports[*]} after ${START_TIMEOUT_S}s"
    fi
    sleep 0.1
  done
  if [[ "$ssl" == no ]]; then
    say "$name ($flavor) running: master PID $pid, imap 127.0.0.1:$imap_port" \
        "${pop3_port:+, pop3 :$pop3_port }(plain, no TLS: MF_DOVECOT_SSL=no)"
    return 0
  fi
  say "$name ($flavor) running: master PID $pid, imap 127.0.0.1:$imap_port (STARTTLS)," \
      "imaps :$imaps_port${pop3_port:+, pop3 :$pop3_port (STLS), pop3s :$pop3s_port};" \
      "CA file $dir/cert.pem"
}

cmd_free_ports() {
  if ! [[ "$1" =~ ^[0-9]+$ ]] || (( $1 < 1 || $1 > 64 )); then
    die "free-ports: N must be 1..64"
  fi
  # Bind all at once so the N ports differ; another process may still take one before use,
  # in which case `start` fails cleanly and the caller picks again.
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

cmd_purge() {
  local name=$1 dir
  check_name "$name"
  dir=$(inst_dir "$name")
  cmd_stop "$name"
  rm -rf "$dir" "$(side_dir "$dir")"
  say "$name: purged"
}

cmd_restart() {
  local name=$1 dir args
  check_name "$name"
  dir=$(inst_dir "$name")
  [[ -f "$dir/args" ]] || die "$name: never started under $RUN_DIR"
  args=$(<"$dir/args")
  local ssl=yes
  [[ -f "$dir/ssl" ]] && ssl=$(<"$dir/ssl")
  cmd_stop "$name"
  # shellcheck disable=SC2086  # args is our own space-separated list
  MF_DOVECOT_KEEP=1 MF_DOVECOT_SSL=$ssl cmd_start "$name" $args
}

(( $# >= 1 )) || usage
cmd=$1; shift
case "$cmd" in
  start) cmd_start "$@" ;;
  stop) (( $# == 1 )) || usage; cmd_stop "$1" ;;
  restart) (( $# == 1 )) || usage; cmd_restart "$1" ;;
  status) (( $# == 1 )) || usage; cmd_status "$1" ;;
  stop-all) (( $# == 0 )) || usage; cmd_stop_all ;;
  purge) (( $# == 1 )) || usage; cmd_purge "$1" ;;
  free-ports) (( $# == 1 )) || usage; cmd_free_ports "$1" ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
