#!/bin/sh
# test-cares.sh - build policyd-spf against another c-ares (Debian 13 ships
# 1.34) and run the DNS-facing tests with it, on a Debian 12 machine.
#
#   scripts/test-cares.sh [VERSION]     default 1.34.5 (Debian 13's)
#
# Fetches c-ares_VERSION.orig.tar.gz from deb.debian.org (needs the network;
# not part of `make check`), builds it with cmake into build-cares-VERSION/,
# builds us against it into the same directory and runs the tests there.
set -eu
V=${1:-1.34.5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$ROOT/build-cares-$V
mkdir -p "$W"
cd "$W"
if [ ! -f inst/lib/libcares.so ]; then
	curl -fsS -o src.tgz "https://deb.debian.org/debian/pool/main/c/c-ares/c-ares_$V.orig.tar.gz"
	tar xzf src.tgz
	cmake -S "c-ares-$V" -B cbuild -DCMAKE_INSTALL_PREFIX="$W/inst" -DCMAKE_BUILD_TYPE=Release \
		-DCARES_BUILD_TOOLS=OFF -DCARES_BUILD_TESTS=OFF >cmake.log
	cmake --build cbuild -j"$(nproc)" >>cmake.log
	cmake --install cbuild >>cmake.log
fi
I=$W/inst
L=lib; [ -d "$I/lib" ] || L=lib64
cd "$ROOT"
make -s -j"$(nproc)" B="$W/pspf" PKG_CFLAGS="-I$I/include $(pkg-config --cflags libevent)" \
	LDLIBS="-L$I/$L -Wl,-rpath,$I/$L -lcares $(pkg-config --libs libevent) -linih"
ldd "$W/pspf/policyd-spf" | grep -q "$I" || { echo "test-cares: not linked against $I" >&2; exit 1; }
PSPF_BUILD=$W/pspf prove t/spf-suite.t t/dns.t t/dns-direct.t t/engine.t t/engine-pyspf.t \
	t/policy.t t/proto-tcp.t t/proto-unix.t t/spawn-file.t t/policy-compat.t "$W"/pspf/t/*
