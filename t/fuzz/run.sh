#!/bin/sh
# t/fuzz/run.sh - `make fuzz`: build every t/fuzz/fuzz_*.c with clang
# -fsanitize=fuzzer,address,undefined against the lib/ sources and run
# each for a bounded time.
#
#   FUZZ_SECONDS=60      run time per target (default 60)
#   FUZZ_TARGETS="a b"   only these targets (names like fuzz_attr)
#   FUZZ_JOBS=1          libFuzzer -jobs/-workers per target
#   FUZZ_MAX_LEN=4096    -max_len
#   CLANG=clang          the compiler
#
# A target named fuzz_X reads its seeds from t/fuzz/corpus/fuzz_X/ (and
# t/fuzz/corpus/X/, t/fuzz/regress/fuzz_X/ or X/, if present) and never writes
# there: new inputs go to build-fuzz/corpus/fuzz_X/.  A dictionary
# t/fuzz/fuzz_X.dict is used when present.  Crashes, leaks and timeouts
# are kept as t/fuzz/crashes/fuzz_X-<kind>-<sha1>; once fixed, move the
# file to t/fuzz/regress/fuzz_X/ where t/fuzz-regress.t replays it in
# make check.  Exit status 1 if any target found something.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
maxlen=${FUZZ_MAX_LEN:-4096}
cc=${CLANG:-clang}
out=build-fuzz

command -v "$cc" >/dev/null 2>&1 || { echo "fuzz: $cc not found (apt-get install clang; scripts/deps.sh test)" >&2; exit 1; }
pkgs="libevent libcares inih"
pkgcflags=$(pkg-config --cflags $pkgs) || { echo "fuzz: pkg-config $pkgs failed" >&2; exit 1; }
pkglibs=$(pkg-config --libs $pkgs)

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Ilib -It/fuzz -include t/fuzz/fuzz.h $pkgcflags"

# libFuzzer's runtime is a separate package (libclang-rt-dev) on Debian.
mkdir -p "$out"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$out/probe.c"
if ! $cc -fsanitize=fuzzer,address,undefined -o "$out/probe" "$out/probe.c" >"$out/probe.log" 2>&1; then
	cat "$out/probe.log" >&2
	echo "fuzz: $cc cannot link a libFuzzer target; install libclang-rt-dev (scripts/deps.sh test)" >&2
	exit 1
fi

targets=""
if [ -n "${FUZZ_TARGETS:-}" ]; then
	for t in $FUZZ_TARGETS; do
		t=${t%.c}; t=${t#t/fuzz/}
		case "$t" in fuzz_*) ;; *) t=fuzz_$t ;; esac
		[ -f "t/fuzz/$t.c" ] || { echo "fuzz: no t/fuzz/$t.c" >&2; exit 1; }
		targets="$targets $t"
	done
else
	for f in t/fuzz/fuzz_*.c; do
		[ -e "$f" ] || continue
		t=${f#t/fuzz/}; targets="$targets ${t%.c}"
	done
fi
[ -n "$targets" ] || { echo "fuzz: no t/fuzz/fuzz_*.c targets" >&2; exit 1; }

# The library, instrumented for coverage but without libFuzzer's main.
mkdir -p "$out/lib" "$out/bin" t/fuzz/crashes
objs=""
for src in lib/*.c; do
	[ -e "$src" ] || continue
	o="$out/lib/$(basename "$src" .c).o"
	if [ ! -e "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find lib -name '*.h' -newer "$o" | head -1)" ]; then
		echo "fuzz: cc $src"
		$cc $cflags -fsanitize=fuzzer-no-link $san -c -o "$o" "$src"
	fi
	objs="$objs $o"
done
rm -f "$out/libfuzzlib.a"
if [ -n "$objs" ]; then
	# shellcheck disable=SC2086
	ar rcs "$out/libfuzzlib.a" $objs
	lib="$out/libfuzzlib.a"
else
	lib=""
fi

found=0
summary=""
for t in $targets; do
	bin="$out/bin/$t"
	echo "fuzz: build $t"
	# shellcheck disable=SC2086
	$cc $cflags -fsanitize=fuzzer $san -o "$bin" "t/fuzz/$t.c" $lib $pkglibs

	work="$out/corpus/$t"
	mkdir -p "$work"
	seeds=""
	short=${t#fuzz_}
	for d in "t/fuzz/corpus/$t" "t/fuzz/corpus/$short" "t/fuzz/regress/$t" "t/fuzz/regress/$short"; do
		[ -d "$d" ] && seeds="$seeds $d"
	done
	par=""
	# -jobs forks workers that log to ./fuzz-N.log; only when asked for.
	[ "$jobs" -gt 1 ] && par="-jobs=$jobs -workers=$jobs"
	dict=""
	[ -f "t/fuzz/$t.dict" ] && dict="-dict=t/fuzz/$t.dict"
	before=$(ls t/fuzz/crashes | grep -c "^$t-" || true)
	echo "fuzz: run $t for ${secs}s (seeds:${seeds:- none})"
	set +e
	# shellcheck disable=SC2086
	ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}" \
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
		-max_len="$maxlen" -print_final_stats=1 $par \
		-artifact_prefix="t/fuzz/crashes/$t-" $dict "$work" $seeds \
		>"$out/$t.log" 2>&1
	rc=$?
	set -e
	after=$(ls t/fuzz/crashes | grep -c "^$t-" || true)
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | tail -1 | grep -o '[0-9]*$' || true)
	if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
		found=1
		summary="$summary
$t: FOUND SOMETHING (exit $rc, $((after - before)) new file(s) in t/fuzz/crashes/); log $out/$t.log"
		grep -E 'ERROR:|SUMMARY:|Test unit written' "$out/$t.log" | head -10 || true
	else
		summary="$summary
$t: ok, ${execs:-?} runs in ${secs}s, corpus $(ls "$work" | wc -l) inputs"
	fi
done
echo "fuzz summary:$summary"
exit $found
