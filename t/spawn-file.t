#!/bin/sh
# Spawn mode with stdin and stdout on regular files, as an admin tries the
# Python server by hand (`policyd-spf < requests`): epoll refuses regular
# files, so this guards the poll fallback.  No DNS is needed: every
# client is in the default skip_addresses.
set -u
B=${PSPF_BUILD:-build}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT INT TERM
: > "$d/empty.conf"
cat > "$d/req" <<'R'
request=smtpd_access_policy
client_address=127.0.0.1
helo_name=Mail.Example.COM
sender=Alice@Example.com
recipient=Bob@Example.NET
instance=abc.1

request=smtpd_access_policy
client_address=127.0.0.1
helo_name=mail.example.com
sender=alice@example.com
recipient=carol@example.net
instance=abc.1

client_address=::ffff:127.0.0.1
sender=
helo_name=
recipient=

R
cat > "$d/want" <<'W'
action=prepend X-Comment: SPF check N/A for local connections - client-ip=127.0.0.1; helo=mail.example.com; envelope-from=alice@example.com; receiver=example.net 

action=dunno

action=prepend X-Comment: SPF check N/A for local connections - client-ip=::ffff:127.0.0.1; helo=; envelope-from=; receiver=none 

W
timeout 20 "$B/policyd-spf" "$d/empty.conf" < "$d/req" > "$d/got" 2>"$d/err"
rc=$?
if [ $rc -eq 0 ]; then echo "ok 1 - exits 0 at end of a regular-file stdin"; else echo "not ok 1 - exit status $rc"; sed 's/^/# /' "$d/err"; fi
if cmp -s "$d/want" "$d/got"; then echo "ok 2 - replies byte for byte"; else echo "not ok 2 - replies differ"; diff "$d/want" "$d/got" | sed 's/^/# /'; fi
echo "1..2"
