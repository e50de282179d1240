#!/usr/bin/env bash
# End-to-end check of the test-server kit: starts a `slash` instance (with POP3) and a `courier`
# instance, seeds the `full` corpus into each over IMAP, checks them with openssl s_client and
# tests/corpus/dump.py, then stops both and checks that none of their processes is left.
#
# Usage: tests/servers/selftest.sh
# Environment: MF_RUN_DIR (default <repo>/.run/selftest), MF_SELFTEST_PORT_BASE (default 21000:
#   slash on +143/+993/+110/+995, courier on +1143/+1993), MF_SELFTEST_BIG_MB (default 20).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/../.." && pwd)
export MF_RUN_DIR=${MF_RUN_DIR:-$REPO_DIR/.run/selftest}
BASE=${MF_SELFTEST_PORT_BASE:-21000}
BIG_MB=${MF_SELFTEST_BIG_MB:-20}
DC="$SCRIPT_DIR/dovecot.sh"
CORPUS="$REPO_DIR/tests/corpus"
S_IMAP=$((BASE + 143)) S_IMAPS=$((BASE + 993)) S_POP3=$((BASE + 110)) S_POP3S=$((BASE + 995))
C_IMAP=$((BASE + 1143)) C_IMAPS=$((BASE + 1993))
OUT="$MF_RUN_DIR/selftest-out"
failures=0

ok() { echo "selftest: ok   - $*"; }
bad() { echo "selftest: FAIL - $*"; failures=$((failures + 1)); }
expect() {  # expect FILE REGEX DESCRIPTION
  if grep -qE -- "$2" "$1"; then ok "$3"; else bad "$3 (no /$2/ in $1)"; fi
}

cleanup() {
  "$DC" stop st-slash >/dev/null 2>&1 || true
  "$DC" stop st-courier >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Runs an IMAP conversation over implicit TLS: imaps PORT CAFILE OUTFILE COMMANDS...
imaps() {
  local port=$1 ca=$2 out=$3
  shift 3
  printf '%s\r\n' "$@" | timeout 20 openssl s_client -connect "127.0.0.1:$port" -CAfile "$ca" \
    -verify_return_error -verify_ip 127.0.0.1 -quiet -ign_eof >"$out" 2>"$out.err" || true
}

mkdir -p "$MF_RUN_DIR" "$OUT"
"$DC" start st-slash slash "$S_IMAP" "$S_IMAPS" "$S_POP3" "$S_POP3S"
"$DC" start st-courier courier "$C_IMAP" "$C_IMAPS"
S_CA="$MF_RUN_DIR/dovecot-st-slash/cert.pem"
C_CA="$MF_RUN_DIR/dovecot-st-courier/cert.pem"

export MF_ST_ALICE_PW=alice-pw MF_ST_ADMIN_PW=admin-pw
python3 "$CORPUS/seed.py" --port "$S_IMAPS" --ssl --cafile "$S_CA" --user alice \
  --password-env MF_ST_ALICE_PW --profile full --big-mb "$BIG_MB" -o "$OUT/slash.json"
python3 "$CORPUS/seed.py" --port "$C_IMAP" --starttls --cafile "$C_CA" --user alice \
  --password-env MF_ST_ALICE_PW --profile full --prefix INBOX. --sep . --big-mb "$BIG_MB" \
  -o "$OUT/courier.json"

# The source still holds the \Deleted messages, hence --include-deleted.
if python3 "$CORPUS/dump.py" --port "$S_IMAPS" --ssl --cafile "$S_CA" --user alice \
     --password-env MF_ST_ALICE_PW --verify "$OUT/slash.json" --include-deleted; then
  ok "slash: every message byte for byte, flags, keywords, internal dates, subscriptions"
else bad "slash: dump.py --verify"; fi
if python3 "$CORPUS/dump.py" --port "$C_IMAPS" --ssl --cafile "$C_CA" --user admin \
     --authzid alice --password-env MF_ST_ADMIN_PW --verify "$OUT/courier.json" --include-deleted; then
  ok "courier: every message byte for byte (logged in via SASL PLAIN authzid=alice authcid=admin)"
else bad "courier: dump.py --verify"; fi

# Master user login + LIST / STATUS / FETCH, over TLS verified against the instance's cert.
imaps "$S_IMAPS" "$S_CA" "$OUT/s1.txt" \
  'a LOGIN "alice*admin" admin-pw' \
  'b LIST "" "*"' \
  'c STATUS "Work" (MESSAGES UIDNEXT)' \
  'd EXAMINE "Work"' \
  'e FETCH 1:* (FLAGS INTERNALDATE)' \
  'f LSUB "" "*"' \
  'g LOGOUT'
expect "$OUT/s1.txt" '^a OK' "slash: LOGIN alice*admin / admin-pw"
expect "$OUT/s1.txt" 'COMPRESS=DEFLATE' "slash: CAPABILITY has COMPRESS=DEFLATE"
expect "$OUT/s1.txt" '^\* LIST \(\\HasNoChildren \\Sent\) "/" Sent' "slash: Sent has \\Sent"
expect "$OUT/s1.txt" '^\* LIST \(.*\) "/" "Entw&APw-rfe alt"' "slash: mUTF-7 German folder"
expect "$OUT/s1.txt" '^\* LIST \(.*\) "/" "?&ZeVnLIqeMAAw1TCpMOswwA-"?' "slash: CJK folder with U+3000"
expect "$OUT/s1.txt" '^\* LIST \(.*\) "/" Work/Projects/2024' "slash: 3-deep folder"
expect "$OUT/s1.txt" '^\* STATUS Work \(MESSAGES 8 UIDNEXT 9\)' "slash: STATUS Work (5 + 3 deleted)"
# shellcheck disable=SC2016  # regexes, not expansions
expect "$OUT/s1.txt" 'FLAGS \(\\Flagged( \\Recent)? Work \$Forwarded\)' "slash: keywords survive"
expect "$OUT/s1.txt" 'FLAGS \(\\Deleted \\Seen( \\Recent)?\)' "slash: \\Deleted message present on source"
expect "$OUT/s1.txt" 'INTERNALDATE "' "slash: INTERNALDATE"
if grep -q '^\* LSUB .* Work/Projects/2024' "$OUT/s1.txt"; then
  bad "slash: Work/Projects/2024 must not be subscribed"
else ok "slash: Work/Projects/2024 not subscribed"; fi

# AUTHENTICATE PLAIN with authzid alice, authcid admin (SASL-IR).
ir=$(printf 'alice\0admin\0admin-pw' | base64 -w0)
imaps "$C_IMAPS" "$C_CA" "$OUT/c1.txt" \
  "a AUTHENTICATE PLAIN $ir" \
  'b NAMESPACE' \
  'c LIST "" "*"' \
  'd EXAMINE "INBOX.Archive.2023"' \
  'e FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE)' \
  'f LOGOUT'
expect "$OUT/c1.txt" '^a OK' "courier: AUTHENTICATE PLAIN authzid=alice authcid=admin"
expect "$OUT/c1.txt" '^\* NAMESPACE \(\("INBOX\." "\."\)\)' "courier: NAMESPACE INBOX. / ."
expect "$OUT/c1.txt" '^\* LIST \(.*\) "\." INBOX\.Work\.Projects\.2024' "courier: nested folders"
if grep -qE '\\(Sent|Drafts|Trash|Junk|Archive)' "$OUT/c1.txt"; then
  bad "courier: must not announce SPECIAL-USE attributes"
else ok "courier: no SPECIAL-USE attributes"; fi
expect "$OUT/c1.txt" 'RFC822\.SIZE (2[01][0-9]{6}|[0-9]+)' "courier: Archive.2023 FETCH"

# POP3 with STLS, and POP3S with a master user.
printf 'USER alice\r\nPASS alice-pw\r\nSTAT\r\nUIDL 1\r\nQUIT\r\n' | timeout 20 openssl s_client \
  -starttls pop3 -connect "127.0.0.1:$S_POP3" -CAfile "$S_CA" -verify_return_error -quiet \
  -ign_eof >"$OUT/p1.txt" 2>"$OUT/p1.err" || true
expect "$OUT/p1.txt" '^\+OK Logged in' "pop3: STLS + USER/PASS"
expect "$OUT/p1.txt" '^\+OK 1 [0-9a-f]{16}' "pop3: UIDL %08Xu%08Xv (lower-case hex)"
printf 'USER alice*admin\r\nPASS admin-pw\r\nSTAT\r\nQUIT\r\n' | timeout 20 openssl s_client \
  -connect "127.0.0.1:$S_POP3S" -CAfile "$S_CA" -verify_return_error -quiet -ign_eof \
  >"$OUT/p2.txt" 2>"$OUT/p2.err" || true
expect "$OUT/p2.txt" '^\+OK Logged in' "pop3s: master user alice*admin"

# Stop and make sure nothing of ours is left (zombies of an init that does not reap are dead).
pids=""
for n in st-slash st-courier; do
  base=$(<"$MF_RUN_DIR/dovecot-$n/base_dir")
  pid=$(<"$base/master.pid")
  pids="$pids $pid $(pgrep -P "$pid" | tr '\n' ' ')"
done
"$DC" stop st-slash
"$DC" stop st-courier
left=""
for p in $pids; do
  state=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || true)
  if [[ -n "$state" && "$state" != Z ]]; then left="$left $p"; fi
done
if [[ -z "$left" ]]; then ok "all processes of both instances gone"; else bad "still running:$left"; fi
if grep -q "$MF_RUN_DIR" <(pgrep -a dovecot || true); then
  bad "a dovecot master of this run dir is still listed"
else ok "no dovecot master of $MF_RUN_DIR listed by pgrep"; fi

if (( failures )); then
  echo "selftest: $failures check(s) failed; outputs in $OUT"
  exit 1
fi
echo "selftest: all checks passed"
