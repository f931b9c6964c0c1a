#!/bin/sh
# make bench: the policyd-spf benchmark (see t/bench/README).
#
# Builds the tools, generates the corpus (cached by seed and generator
# version), then runs t/bench/bench.py as pid 1 of a private network, mount
# and pid namespace: only loopback exists there, /etc/resolv.conf is a bind
# mount naming the benchmark's DNS server, and when the run ends (or is
# interrupted) the kernel stops whatever is left in the namespace.
#
#   BENCH_QUICK=1   a small subset (about a minute)
#   BENCH_SEED=N    another corpus (default 7208)
#   BENCH_ONLY=server:delay:conns[:secs],...  just these cells (debugging)
#   BENCH_KEEP=1    keep the temporary directory (server logs)
#   PSPF_BUILD=dir  build directory (default build)
set -eu
cd "$(dirname "$0")/../.."
B=${PSPF_BUILD:-build}
OUT=t/bench/out
SEED=${BENCH_SEED:-7208}
PY=/usr/bin/python3
mkdir -p "$OUT"

[ "$(id -u)" = 0 ] || { echo "bench: needs root (unshare, mount, knotd on :53 inside the namespace)" >&2; exit 1; }
sh scripts/deps.sh build bench
for t in knotd knotc socat unshare ip /usr/bin/policyd-spf; do
	command -v "$t" >/dev/null 2>&1 || { echo "bench: missing $t (sh scripts/deps.sh build bench)" >&2; exit 1; }
done

make -s B="$B" bench-tools

ours="" missing=""
if make -s B="$B" "$B/policyd-spf" >"$OUT/build.log" 2>&1; then
	ours="$B/policyd-spf"
else
	missing="build failed, see t/bench/out/build.log"
fi

corpus="$OUT/corpus-$SEED"
stamp="seed=$SEED $(sha256sum t/bench/gen.py | cut -c1-16)"
if [ ! -f "$corpus/stamp" ] || [ "$(cat "$corpus/stamp")" != "$stamp" ]; then
	rm -rf "$corpus"
	$PY t/bench/gen.py --seed "$SEED" --out "$corpus"
	echo "$stamp" >"$corpus/stamp"
fi

tmp=$(mktemp -d /tmp/pspf-bench.XXXXXX)
trap '[ -n "${BENCH_KEEP:-}" ] || rm -rf "$tmp"' EXIT
# dash runs the EXIT trap only on exit, not when a signal ends it
trap 'exit 130' INT TERM HUP
quick=""
[ "${BENCH_QUICK:-0}" = 1 ] && quick="--quick"
rc=0
unshare --net --mount --pid --fork --mount-proc --kill-child \
	$PY t/bench/bench.py --build "$B" --corpus "$corpus" --out "$OUT" --tmp "$tmp" \
	--ours "$ours" --ours-missing "$missing" $quick || rc=$?
echo "bench: results in $OUT/results.md"
exit $rc
