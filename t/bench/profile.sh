#!/bin/bash
# profile.sh - one quick measurement outside the full matrix: Knot with the
# bench corpus on a loopback port, policyd-spf (one worker unless WORKERS
# says otherwise), and loadgen.
#
#   t/bench/profile.sh [conns] [seconds]        loadgen's figures (req/s, CPU)
#   WORKERS=0 t/bench/profile.sh 8              the default worker count
#   DELAY_MS=20 t/bench/profile.sh 1            DNS through t/bench/dnsdelay, 20 ms away
#   PROFILE=callgrind t/bench/profile.sh 8      instructions per request
#   PROFILE=strace t/bench/profile.sh 8         syscalls per request
#
# Needs root (the daemon drops to the policyd-spf user), knotd, valgrind or
# strace for those modes, and the corpus and tools of a previous `make bench`
# (t/bench/out/corpus-<seed>, build/bench/loadgen).  callgrind and strace
# runs send NREQ requests (default 40,000 and 20,000) instead of a timed run.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
C=${1:-8}; D=${2:-10}
B=${PSPF_BUILD:-$ROOT/build}
CORPUS=${CORPUS:-$ROOT/t/bench/out/corpus-${BENCH_SEED:-7208}}
LG=$B/bench/loadgen
[ -x "$B/policyd-spf" ] && [ -x "$LG" ] || { echo "profile.sh: build first: make all bench-tools" >&2; exit 1; }
[ -f "$CORPUS/root.zone" ] || { echo "profile.sh: no corpus in $CORPUS: run make bench once" >&2; exit 1; }
T=$(mktemp -d /tmp/pspf-profile.XXXXXX); chmod 755 "$T"
DNSPORT=$((20000 + $$ % 20000)); PORT=$((DNSPORT + 1))
mkdir -p "$T/knot"
cat > "$T/knot/knot.conf" <<K
server:
    rundir: $T/knot
    listen: 127.0.0.1@$DNSPORT
    udp-workers: 2
    tcp-workers: 1
    background-workers: 1
database:
    storage: $T/knot
log:
  - target: stderr
    any: warning
zone:
  - domain: .
    file: $CORPUS/root.zone
    zonefile-load: whole
    journal-content: none
K
knotd -c "$T/knot/knot.conf" 2>"$T/knot.log" & KP=$!
SP=
cleanup() {
	[ -n "$SP" ] && kill -TERM "$SP" 2>/dev/null || true
	kill "$KP" ${DDP:+"$DDP"} 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
for _ in $(seq 50); do
	dig +short +time=1 +tries=1 -p "$DNSPORT" @127.0.0.1 . SOA >/dev/null 2>&1 && break
	sleep 0.1
done
cp /etc/postfix-policyd-spf-python/policyd-spf.conf "$T/p.conf" 2>/dev/null || cp "$ROOT/etc/policyd-spf.conf" "$T/p.conf"
DDP=
if [ -n "${DELAY_MS:-}" ]; then
	"$B/bench/dnsdelay" -l "127.0.0.1:$((DNSPORT + 2))" -u "127.0.0.1:$DNSPORT" -m "$DELAY_MS" & DDP=$!
	DNSPORT=$((DNSPORT + 2))
	sleep 0.3
fi
printf '\nDNS_Servers = 127.0.0.1:%s\nMax_Connections = 12000\n' "$DNSPORT" >> "$T/p.conf"
N=100000000
case ${PROFILE:-} in
callgrind) WRAP="setpriv --reuid=policyd-spf --regid=policyd-spf --clear-groups valgrind --tool=callgrind --callgrind-out-file=$T/cg/cg.out"; mkdir -m 1777 "$T/cg"; N=${NREQ:-40000}; D=300 ;;
strace) WRAP="strace -f -c -o $T/strace.out"; N=${NREQ:-20000}; D=300 ;;
'') WRAP= ;;
*) echo "profile.sh: PROFILE is callgrind or strace" >&2; exit 1 ;;
esac
# shellcheck disable=SC2086
$WRAP "$B/policyd-spf" --foreground --workers "${WORKERS:-1}" --listen "inet:127.0.0.1:$PORT" "$T/p.conf" 2>"$T/server.log" & SP=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
sleep 0.3
"$LG" -s "inet:127.0.0.1:$PORT" -r "$CORPUS/requests.txt" -e "$CORPUS/expected.txt" -c "$C" -n "$N" -d "$D" -p "$SP" -w 60 > "$T/lg.out"
grep -E '^(sent|rps|p50_ms|p99_ms|mismatches|errors|cpu_ms_per_req|peak_rss_kb)=' "$T/lg.out"
# stop the daemon itself: a wrapper (strace, valgrind) then exits on its own
# and writes its summary
# (with several workers, the supervisor)
DP=$(pgrep -P "$SP" -x policyd-spf || true)
[ "$(echo "$DP" | wc -l)" = 1 ] || DP=
kill -TERM "${DP:-$SP}" 2>/dev/null || true; wait "$SP" 2>/dev/null || true; SP=
sent=$(sed -n 's/^sent=//p' "$T/lg.out")
case ${PROFILE:-} in
callgrind)
	tot=$(callgrind_annotate "$T/cg/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
	echo "instructions_per_req=$((tot / sent))"
	callgrind_annotate "$T/cg/cg.out" 2>/dev/null | sed -n '/file:function/,$p' | sed -n 2,21p ;;
strace)
	awk -v n="$sent" '$NF=="total"{printf "syscalls_per_req=%.2f\n", $4/n}' "$T/strace.out"
	awk -v n="$sent" '/^ *[0-9]/ && $NF!="total"{printf "  %-14s %.2f\n", $NF, $4/n}' "$T/strace.out" | head -12 ;;
esac
