#!/usr/bin/python3
# dns-direct.t - lib/dnsdirect, the transport for query names c-ares 1.20+
# refuses (':', '[', ' ', '=', '+', bytes >= 0x80 ...), driven through
# lib/dns and the daemon's libevent glue by t/tools/dnsq against a real
# t/dnsd.py: answers for such names, NXDOMAIN, TC -> TCP, timeouts and
# tries, a dead or silent first server, forged answers (wrong ID, port,
# name, type) ignored, sharing and caching as for any name, a burst over
# the transport's socket cap, and the FORMERR fallback without EDNS0.
# The path is the same on every c-ares version, so this runs alike on
# Debian 12 (1.18) and 13 (1.34).

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib  # noqa: E402
import dnscheck  # noqa: E402

tap = testlib.Tap()
dq = dnscheck.Dnsq(tap)
dnsq, check, queries = dq.run, dq.check, dnscheck.queries

CAFE = 'caf\u00e9.example.com'        # UTF-8 on the wire: bytes 0xc3 0xa9
ODD = {
    'user+tag._spf.example.com': [{'TXT': 'plus sign'}],
    'SRS0=abc=de=example.org=user.example.com': [{'A': '192.0.2.10'}],
    'helo with spaces.example.com': [{'TXT': 'spaces'}],
    '[1.2.3.4].example.com': [{'A': '192.0.2.11'}],
    'a:foo:bar/baz.example.com': [{'A': '192.0.2.12'}],
    CAFE: [{'TXT': 'eight bit'}],
    '"quoted"\\back.example.com': [{'TXT': 'quote and backslash'}],
    'tc+x.example.com': ['TRUNCATE', {'TXT': 'odd name over tcp'}],
    'tcfail+x.example.com': ['TRUNCATE', 'SERVFAIL'],
    'fail+x.example.com': ['SERVFAIL'],
    'slow=x.example.com': ['TIMEOUT'],
    'spoof+x.example.com': ['SPOOF', {'A': '192.0.2.7'}],
    'alias+x.example.com': [{'CNAME': 'user+tag._spf.example.com'}],
    'plain.example.com': [{'A': '192.0.2.1'}],
}

with testlib.Dnsd(zone=ODD) as dns:
    # --- odd names get answers ----------------------------------------
    r = dnsq(dns.server, 'TXT:user+tag._spf.example.com',
             'A:SRS0=abc=de=example.org=user.example.com', 'TXT:helo with spaces.example.com',
             'A:[1.2.3.4].example.com', 'A:a:foo:bar/baz.example.com', 'TXT:' + CAFE,
             'TXT:"quoted"\\back.example.com', 'A:missing+x.example.com',
             'TXT:User+Tag._SPF.Example.COM', 'TXT:alias+x.example.com', 'A:plain.example.com')
    tap.is_(r.returncode, 0, 'dnsq exits 0', r.stderr)
    check(r, 0, "'+': OK", status='OK', n=1)
    tap.is_(r.records.get(0), ['TXT strings=1 first=9 len=9 "plus sign" ttl=3600'], "'+': the record")
    check(r, 1, "'=' (SRS0): OK", status='OK', n=1)
    tap.is_(r.records.get(1), ['A 192.0.2.10 ttl=3600'], "'=': the address")
    check(r, 2, "' ' (HELO with spaces): OK", status='OK', n=1)
    check(r, 3, "'[' ']' (address literal): OK", status='OK', n=1)
    tap.is_(r.records.get(3), ['A 192.0.2.11 ttl=3600'], "'[': the address")
    check(r, 4, "':' (a:foo:bar/baz): OK", status='OK', n=1)
    tap.is_(r.records.get(4), ['A 192.0.2.12 ttl=3600'], "':': the address")
    check(r, 5, 'byte >= 0x80: OK', status='OK', n=1)
    tap.is_(r.records.get(5), ['TXT strings=1 first=9 len=9 "eight bit" ttl=3600'],
            'byte >= 0x80: the record')
    check(r, 6, 'quote and backslash: OK', status='OK', n=1)
    check(r, 7, 'odd name missing: NXDOMAIN with the SOA TTL', status='NXDOMAIN', ttl=300, n=0)
    check(r, 8, 'odd name in other case: answered (question matched without case)',
          status='OK', n=1)
    check(r, 9, 'odd name at a CNAME to an odd name: chain followed', status='OK', n=1,
          canon='user+tag._spf.example.com')
    check(r, 10, 'plain name beside them (c-ares): OK', status='OK', n=1)
    tap.is_(len(queries(dns, CAFE, 'TXT')), 1, 'byte >= 0x80: the server got the UTF-8 bytes',
            dns.queries())
    tap.ok(all(l.split(' ')[0] == 'udp' for l in queries(dns, 'user+tag._spf.example.com', 'TXT')),
           'odd names go over UDP')

    # --- truncated answer: TCP ------------------------------------------
    r = dnsq(dns.server, 'TXT:tc+x.example.com')
    dq.check_tc(r, 0, dns, 'tc+x.example.com', 'TXT',
                'TXT strings=1 first=17 len=17 "odd name over tcp" ttl=3600',
                'TC for an odd name: retried over TCP')
    r = dnsq(dns.server, 'TXT:tcfail+x.example.com', 'TXT:fail+x.example.com')
    dq.check(r, 0, 'odd name, SERVFAIL over TCP after TC: TCP-FAIL', status='TCP-FAIL', ttl=0)
    dq.check(r, 1, 'odd name, SERVFAIL over UDP: SERVFAIL', status='SERVFAIL', ttl=0)
    tap.is_([l.split(' ')[0] for l in dnscheck.queries(dns, 'tcfail+x.example.com', 'TXT')],
            ['udp', 'tcp'], 'odd name, TCP-FAIL: one UDP query, then one TCP query')

    # --- timeouts, tries --------------------------------------------------
    dq.check_timeout(dns, 'slow=x.example.com', 'plain.example.com',
                     'TIMEOUT after 2 tries of 300 ms (%.2fs)', low=0.55)

    # --- forged answers ---------------------------------------------------
    r = dnsq(dns.server, 'A:spoof+x.example.com')
    check(r, 0, 'forged answers (wrong ID, port, name, type) ignored: the real one taken',
          status='OK', n=1)
    tap.is_(r.records.get(0), ['A 192.0.2.7 ttl=3600'], 'forged answers: the real address')
    tap.is_(len(queries(dns, 'spoof+x.example.com', 'A')), 1, 'forged answers: one query')

    # --- sharing and cache, as for any name -------------------------------
    n0 = len(queries(dns, 'user+tag._spf.example.com', 'TXT'))
    r = dnsq(dns.server, 'TXT:user+tag._spf.example.com', 'TXT:USER+tag._spf.example.com',
             '--sleep=0', 'TXT:user+tag._spf.example.com', opts=['-c', '100000'])
    check(r, 1, 'odd name: concurrent lookups share', status='OK', cache='no')
    check(r, 2, 'odd name: cached', status='OK', cache='yes')
    tap.is_(len(queries(dns, 'user+tag._spf.example.com', 'TXT')) - n0, 1,
            'odd name: one query for three lookups')
    tap.is_(r.stats.get('shared'), 1, 'odd name: one lookup joined the other')

    # --- a burst over the socket cap (32) and the in-flight cap -----------
    burst = ['A:burst+%d.example.com' % i for i in range(150)]
    r = dnsq(dns.server, *burst, opts=['-m', '100'])
    tap.ok(all(r.answers.get(i, {}).get('status') == 'NXDOMAIN' for i in range(150)),
           '150 odd names at once: all answered', r.stdout[-2000:])
    tap.ok(0 < r.stats.get('maxinflight', 0) <= 100,
           'never more than 100 queries out (max seen %s)' % r.stats.get('maxinflight'))
    r = dnsq(dns.server, *(burst[:100] + ['A:plain.example.com']), opts=['-m', '300'])
    tap.ok(all(r.answers.get(i, {}).get('status') == 'NXDOMAIN' for i in range(100))
           and r.answers.get(100, {}).get('status') == 'OK',
           '100 odd names past the 32 sockets: the rest wait in line, all answered',
           r.stdout[-2000:])

    # --- servers in order: dead first, silent first ------------------------
    r = dnsq(['127.0.0.1:9', dns.server], 'TXT:user+tag._spf.example.com',
             opts=['-t', '300', '-r', '1'])
    check(r, 0, 'first server dead (port unreachable): the second answers', status='OK', n=1)
    with testlib.Dnsd(zone={'user+tag._spf.example.com': ['TIMEOUT'],
                            'slow=x.example.com': ['TIMEOUT']}) as silent:
        r = dnsq([silent.server, dns.server], 'TXT:user+tag._spf.example.com',
                 opts=['-t', '300', '-r', '1'])
        check(r, 0, 'first server silent: after its timeout the second answers', status='OK', n=1)
        tap.ok(r.elapsed >= 0.3, 'the second server asked after 300 ms (%.2fs)' % r.elapsed)
        tap.is_(len(queries(silent, 'user+tag._spf.example.com', 'TXT')), 1,
                'the silent server was asked once')
        r = dnsq([silent.server, dns.server], 'TXT:slow=x.example.com',
                 opts=['-t', '200', '-r', '2'])
        check(r, 0, 'two servers, neither answers: TIMEOUT', status='TIMEOUT')
        tap.is_((len(queries(silent, 'slow=x.example.com', 'TXT')),
                 len(queries(dns, 'slow=x.example.com', 'TXT'))), (2, 2),
                'tries=2, two servers: each server asked twice')
        tap.ok(0.75 < r.elapsed < 5, 'four tries of 200 ms (%.2fs)' % r.elapsed)

# --- an old server: FORMERR to EDNS0 ------------------------------------------
OLD_SERVER = r"""
from dnslib import RR, QTYPE, TXT


def answer(q, data, edns, log):
    log.write('edns=%d\n' % edns)
    if edns:
        # The oldest servers do not even echo the question.
        return data[:2] + bytes([0x80 | (data[2] & 0x79), 0x01]) + bytes(8)
    a = q.reply()
    a.add_answer(RR(q.q.qname, QTYPE.TXT, rdata=TXT('no edns here'), ttl=100))
    return a.pack()
"""


with dnscheck.ScriptServer(OLD_SERVER) as old:
    tap.ok(old.server is not None, 'old server started', old.ready_line)
    r = dnsq(old.server, 'TXT:old+x.example')
    check(r, 0, 'odd name, FORMERR without question to EDNS0: asked again without it',
          status='OK', n=1)
    tap.is_(old.queries(), ['edns=1', 'edns=0'], 'EDNS0 first, then plain')

# --- an IPv6 server -------------------------------------------------------------
if dnscheck.have_ipv6():
    with testlib.Dnsd(zone=ODD, addr='::1') as dns6:
        r = dnsq('[::1]:%d' % dns6.port, 'TXT:user+tag._spf.example.com', 'TXT:tc+x.example.com')
        check(r, 0, 'odd name from an IPv6 server', status='OK', n=1)
        check(r, 1, 'odd name from an IPv6 server, TC -> TCP', status='OK', n=1)
else:
    tap.diag('no IPv6 loopback here: direct queries to [v6]:port not tried')

dq.all_runs_clean()
tap.done()
