#!/bin/sh
# deps.sh build|test ... - make sure the Debian packages a target needs are
# installed.  As root it installs what is missing with apt-get; otherwise it
# prints the exact command and fails, so nothing is ever skipped silently.
set -eu

build_pkgs="gcc make pkg-config libevent-dev libc-ares-dev libinih-dev"
# Tests: perl's prove, the RFC test suites (python3-spf ships them), our
# test DNS server (python3 + dnslib + yaml), libspf2 for the differential
# test, the Python policyd-spf to compare against, clang for fuzzing,
# Postfix + swaks + OpenDMARC for end-to-end tests.  libclang-rt-dev holds
# libFuzzer (only a Recommends of clang); mount and util-linux's unshare,
# with iproute2, build the private network namespaces of the libspf2 test.
test_pkgs="perl python3 python3-yaml python3-dnslib python3-spf libspf2-dev
 postfix-policyd-spf-python clang socat swaks postfix opendmarc iproute2 util-linux
 libclang-rt-dev mount"
# make bench: Knot DNS serves the corpus; the rest as for the tests.
bench_pkgs="knot socat postfix-policyd-spf-python python3 python3-spf python3-dnslib
 iproute2 util-linux mount"

want=""
for set in "$@"; do
	case "$set" in
	build) want="$want $build_pkgs" ;;
	test) want="$want $test_pkgs" ;;
	bench) want="$want $bench_pkgs" ;;
	*) echo "deps.sh: unknown set '$set'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "missing packages:$missing" >&2
	echo "run as root:  apt-get update && $cmd" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix must not configure itself as the system's mailer when CI installs it.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
