#!/bin/sh
# make install / make uninstall into a temporary DESTDIR: the tree a
# package or docker-mailserver expects, the config never overwritten.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${PSPF_BUILD:-build}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT INT TERM
n=0; fail=0
t() { n=$((n+1)); if "$@"; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; fail=1; fi; }

make -s -C "$top" B="$B" install DESTDIR="$d" PREFIX=/usr >"$d.log" 2>&1
desc="make install PREFIX=/usr succeeds"; t test $? -eq 0
desc="binary at /usr/bin/policyd-spf, executable"; t test -x "$d/usr/bin/policyd-spf"
desc="policyd-spf(8) installed"; t test -f "$d/usr/share/man/man8/policyd-spf.8"
desc="policyd-spf.conf(5) installed"; t test -f "$d/usr/share/man/man5/policyd-spf.conf.5"
desc="sample config at the Python server's path"; t cmp -s "$top/etc/policyd-spf.conf" "$d/etc/postfix-policyd-spf-python/policyd-spf.conf"

# An admin's config survives a second install.
echo "debugLevel = 3" > "$d/etc/postfix-policyd-spf-python/policyd-spf.conf"
make -s -C "$top" B="$B" install DESTDIR="$d" PREFIX=/usr >>"$d.log" 2>&1
desc="existing config is not overwritten"; t grep -qx "debugLevel = 3" "$d/etc/postfix-policyd-spf-python/policyd-spf.conf"

make -s -C "$top" B="$B" uninstall DESTDIR="$d" PREFIX=/usr >>"$d.log" 2>&1
desc="uninstall removes the binary"; t test ! -e "$d/usr/bin/policyd-spf"
desc="uninstall removes the man pages"; t test ! -e "$d/usr/share/man/man8/policyd-spf.8" -a ! -e "$d/usr/share/man/man5/policyd-spf.conf.5"
desc="uninstall keeps a changed config"; t test -f "$d/etc/postfix-policyd-spf-python/policyd-spf.conf"
rm -f "$d.log"
echo "1..$n"
exit $fail
