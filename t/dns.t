#!/usr/bin/python3
# dns.t - lib/dns (c-ares, answer parser, in-flight sharing, TTL cache)
# driven through the daemon's libevent glue by t/tools/dnsq, against a real
# t/dnsd.py on loopback: every record type, CNAME chains, NXDOMAIN versus
# NODATA, SERVFAIL, TIMEOUT, TC -> TCP, TTL expiry, negative caching, the
# cache's memory bound, and one wire query shared by concurrent lookups.

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib  # noqa: E402
import dnscheck  # noqa: E402

tap = testlib.Tap()
dq = dnscheck.Dnsq(tap)
dnsq, check, queries = dq.run, dq.check, dnscheck.queries
DNSQ = dq.bin

LONG = 'v=spf1 ' + ' '.join('ip4:192.0.2.%d' % i for i in range(60)) + ' -all'

ZONE = {
    'example.com': [
        {'TXT': 'v=spf1 -all'},
        {'TXT': ['part one ', 'part two']},
        {'A': '192.0.2.1'},
        {'A': '192.0.2.2'},
        {'MX': [10, 'mx1.example.com']},
        {'MX': [20, 'MX2.Example.com']},
        {'TTL': 60},
        {'AAAA': '2001:db8::1'},
    ],
    'long.example.com': [{'TXT': LONG}],
    'alias.example.com': [{'CNAME': 'chain.example.com'}],
    'chain.example.com': [{'TTL': 30}, {'CNAME': 'example.com'}],
    'loop.example.com': [{'CNAME': 'loop2.example.com'}],
    'loop2.example.com': [{'CNAME': 'loop.example.com'}],
    'dangling.example.com': [{'CNAME': 'nowhere.example.com'}],
    '1.2.0.192.in-addr.arpa': [{'PTR': 'Mail.Example.com'}],
    'timeout.example.com': ['TIMEOUT'],
    'servfail.example.com': ['SERVFAIL'],
    'tc.example.com': ['TRUNCATE', {'TXT': 'came over tcp'}],
    'tcfail.example.com': ['TRUNCATE', 'SERVFAIL'],
    'short.example.com': [{'TTL': 1}, {'TXT': 'one second'}],
    'ttl0.example.com': [{'TTL': 0}, {'TXT': 'never cached'}],
    'sixty.example.com': [{'TTL': 60}, {'TXT': 'sixty seconds'}],
    'shared.example.com': [{'TXT': 'asked by two'}],
    'cancel.example.com': [{'TXT': 'one cancelled'}],
}
for i in range(100):
    ZONE['n%d.example.com' % i] = [{'TXT': 'record number %d of the memory test' % i}]


with testlib.Dnsd(zone=ZONE) as dns:
    # --- record types -------------------------------------------------
    r = dnsq(dns.server, 'A:example.com', 'AAAA:example.com', 'TXT:example.com', 'MX:example.com',
             'PTR:1.2.0.192.in-addr.arpa', 'TXT:long.example.com')
    tap.is_(r.returncode, 0, 'dnsq exits 0', r.stderr)
    check(r, 0, 'A: OK with the zone TTL', status='OK', ttl=3600, cache='no', n=2)
    tap.is_(r.records[0], ['A 192.0.2.1 ttl=3600', 'A 192.0.2.2 ttl=3600'], 'A: both addresses')
    check(r, 1, 'AAAA: OK, TTL 60', status='OK', ttl=60, n=1)
    tap.is_(r.records[1], ['AAAA 2001:db8::1 ttl=60'], 'AAAA: the address')
    tap.is_(r.records[2], ['TXT strings=1 first=11 len=11 "v=spf1 -all" ttl=3600',
                           'TXT strings=2 first=9 len=17 "part one part two" ttl=3600'],
            'TXT: two records, several strings joined without separator')
    tap.is_(r.records[3], ['MX 10 mx1.example.com ttl=3600', 'MX 20 MX2.Example.com ttl=3600'],
            'MX: preference and exchange, case kept')
    tap.is_(r.records[4], ['PTR Mail.Example.com ttl=3600'], 'PTR: the name')
    tap.is_(r.records[5], ['TXT strings=%d first=255 len=%d "%s" ttl=3600'
                           % ((len(LONG) + 254) // 255, len(LONG), LONG)],
            'TXT over 255 bytes (and over 512 in all): several strings, joined back')

    # --- CNAME chains -------------------------------------------------
    r = dnsq(dns.server, 'A:alias.example.com', 'TXT:alias.example.com', 'CNAME:alias.example.com',
             'A:loop.example.com', 'A:dangling.example.com')
    check(r, 0, 'CNAME chain: A of the final target', status='OK', canon='example.com', n=2,
          ttl=30)
    tap.is_(r.records[1][0], 'TXT strings=1 first=11 len=11 "v=spf1 -all" ttl=3600',
            'CNAME chain: TXT of the final target')
    tap.is_(r.records[2], ['CNAME chain.example.com ttl=3600'], 'asking CNAME: the link itself')
    check(r, 3, 'CNAME loop: SERVFAIL', status='SERVFAIL', n=0)
    check(r, 4, 'CNAME to a missing name: NXDOMAIN', status='NXDOMAIN',
          canon='nowhere.example.com')

    # --- NXDOMAIN, NODATA, SERVFAIL, TIMEOUT, TC ----------------------
    r = dnsq(dns.server, 'A:nx.example.com', 'MX:long.example.com', 'A:servfail.example.com',
             'TXT:tc.example.com')
    check(r, 0, 'missing name: NXDOMAIN, TTL from the SOA', status='NXDOMAIN', ttl=300, n=0)
    check(r, 1, 'name without that type: NODATA', status='NODATA', ttl=300, n=0)
    check(r, 2, 'SERVFAIL rcode: SERVFAIL', status='SERVFAIL', ttl=0)
    dq.check_tc(r, 3, dns, 'tc.example.com', 'TXT',
                'TXT strings=1 first=13 len=13 "came over tcp" ttl=3600',
                'truncated UDP answer: retried over TCP')
    # pydns raises on an error rcode over TCP (pyspf: temperror) where it
    # reads one over UDP as no answer: the transport is kept apart
    r = dnsq(dns.server, 'TXT:tcfail.example.com')
    check(r, 0, 'SERVFAIL over TCP after a truncated UDP answer: TCP-FAIL', status='TCP-FAIL', ttl=0)
    tap.is_([l.split(' ')[0] for l in queries(dns, 'tcfail.example.com', 'TXT')], ['udp', 'tcp'],
            'TCP-FAIL: one UDP query, then one TCP query')

    dq.check_timeout(dns, 'timeout.example.com', 'example.com',
                     'TIMEOUT within bounds (%.2fs for 2 tries of 300 ms)')

    # --- names refused before any query -------------------------------
    before = len(dns.queries())
    r = dnsq(dns.server, 'A:a..example.com', 'A:' + 'x' * 64 + '.example.com',
             'A:' + '.'.join(['abcdefg'] * 32), 'A:.', 'A:example.com.', 'A:example.com..')
    for i, what in enumerate(['empty label', 'label over 63', 'name over 253', 'root only']):
        check(r, i, 'bad name (%s): ERROR' % what, status='ERROR', ttl=0, n=0)
    check(r, 4, 'one trailing dot is stripped', status='OK', canon='example.com')
    check(r, 5, 'two trailing dots: ERROR', status='ERROR')
    tap.is_(len(dns.queries()) - before, 1, 'bad names send no query')

    # --- cache: TTL expiry ----------------------------------------------
    r = dnsq(dns.server, 'TXT:short.example.com', '--sleep=1200', 'TXT:short.example.com',
             '--sleep=0', 'TXT:short.example.com', opts=['-c', '100000'])
    check(r, 0, 'TTL 1: first answer from the server', status='OK', ttl=1, cache='no')
    check(r, 1, 'TTL 1: after 1.2 s from the server again', status='OK', cache='no')
    check(r, 2, 'TTL 1: right after, from the cache', status='OK', cache='yes')
    tap.is_(len(queries(dns, 'short.example.com', 'TXT')), 2, 'TTL 1: two queries reached the server')

    r = dnsq(dns.server, 'TXT:sixty.example.com', '--sleep=1100', 'TXT:Sixty.Example.COM.',
             opts=['-c', '100000'])
    check(r, 1, 'cache hit, name case-insensitive', status='OK', cache='yes')
    # 1.1 s of age takes one second off; a second more is allowed for a slow machine.
    tap.ok(r.answers.get(1, {}).get('ttl') in ('59', '58'),
           'cache hit: TTL reduced by the age (%s)' % r.answers.get(1, {}).get('ttl'))
    tap.is_(r.records.get(1), ['TXT strings=1 first=13 len=13 "sixty seconds" ttl=60'],
            'cache hit: the same records')

    r = dnsq(dns.server, 'TXT:ttl0.example.com', 'TXT:ttl0.example.com', opts=['-c', '100000'])
    check(r, 1, 'TTL 0: not cached', status='OK', cache='no', ttl=0)

    # --- cache: negative answers -------------------------------------------
    n0 = len(queries(dns, 'neg.example.com', 'A'))
    r = dnsq(dns.server, 'A:neg.example.com', 'MX:short.example.com', 'A:servfail.example.com',
             '--sleep=1100', 'A:neg.example.com', 'MX:short.example.com', 'A:servfail.example.com',
             opts=['-c', '100000'])
    check(r, 3, 'NXDOMAIN cached', status='NXDOMAIN', cache='yes')
    tap.ok(r.answers.get(3, {}).get('ttl') in ('299', '298'),
           'NXDOMAIN: negative TTL reduced by the age (%s)' % r.answers.get(3, {}).get('ttl'))
    check(r, 4, 'NODATA cached', status='NODATA', cache='yes')
    check(r, 5, 'SERVFAIL not cached', status='SERVFAIL', cache='no')
    tap.is_(len(queries(dns, 'neg.example.com', 'A')) - n0, 1, 'NXDOMAIN: one query for two lookups')

    # --- cache: memory bound ---------------------------------------------
    names = ['TXT:n%d.example.com' % i for i in range(100)]
    bound = 3000
    r = dnsq(dns.server, *(names + ['--sleep=0', 'TXT:n0.example.com', 'TXT:n99.example.com']),
             opts=['-c', str(bound)])
    tap.ok(all(r.answers.get(i, {}).get('status') == 'OK' for i in range(100)),
           '100 names through a %d-byte cache: all answered' % bound)
    tap.ok(0 < r.stats.get('maxbytes', 0) <= bound,
           'cache bytes never above the bound (max seen %s)' % r.stats.get('maxbytes'), r.stdout)
    tap.ok(0 < r.stats.get('entries', 0) < 100,
           'entries evicted (%s of 100 kept)' % r.stats.get('entries'))
    check(r, 100, 'oldest entry evicted', cache='no', status='OK')
    check(r, 101, 'newest entry kept', cache='yes', status='OK')

    # --- in-flight sharing ------------------------------------------------
    r = dnsq(dns.server, 'TXT:shared.example.com', 'TXT:SHARED.example.com.', 'TXT:shared.example.com')
    for i in range(3):
        check(r, i, 'shared lookup %d answered from the wire' % i, status='OK', cache='no', n=1)
    tap.is_(len(queries(dns, 'shared.example.com', 'TXT')), 1,
            'three concurrent lookups of one name: one query received')
    tap.is_(r.stats.get('shared'), 2, 'two lookups joined the first')

    # A burst over the in-flight cap waits in line instead of flooding.
    burst = ['TXT:n%d.example.com' % i for i in range(100)] + ['A:burst%d.example.com' % i
                                                              for i in range(100)]
    r = dnsq(dns.server, *(burst + ['cancel:A:burst0.example.com', 'cancel:A:lonely.example.com']),
             opts=['-m', '7'])
    tap.ok(all(r.answers.get(i, {}).get('status') == ('OK' if i < 100 else 'NXDOMAIN')
               for i in range(200)), '200 lookups through 7 slots: all answered', r.stdout[-2000:])
    tap.ok(0 < r.stats.get('maxinflight', 0) <= 7,
           'never more than 7 queries out (max seen %s)' % r.stats.get('maxinflight'))
    tap.is_(len(queries(dns, 'burst99.example.com', 'A')), 1, 'queued lookups reach the server')
    check(r, 100, 'a joined waiter cancelled in line: the other still answered', status='NXDOMAIN')
    tap.is_(len(queries(dns, 'lonely.example.com', 'A')), 0,
            'a lookup cancelled while in line is never sent')

    # Callbacks starting lookups: a cache hit delivered inside the fan-out,
    # and a failure (not cached) sent again from inside c-ares' callback.
    n0 = len(queries(dns, 'servfail.example.com', 'A'))
    r = dnsq(dns.server, 'TXT:example.com', 'TXT:example.com', opts=['-c', '100000', '-a', '1'])
    check(r, 2, 'lookup started by a callback: cache hit inside the fan-out', status='OK',
          cache='yes')
    r = dnsq(dns.server, 'A:servfail.example.com', 'A:servfail.example.com', opts=['-a', '3'])
    tap.ok(all(r.answers.get(i, {}).get('status') == 'SERVFAIL' for i in range(5)),
           'lookups started by callbacks after a failure: all answered', r.stdout)
    # 2 lookups share query 1; their callbacks start 2 more, sharing query 2;
    # the first of those starts the last, query 3.
    tap.is_(len(queries(dns, 'servfail.example.com', 'A')) - n0, 3,
            'failures not cached: lookups from callbacks go to the wire, shared in flight')

    r = dnsq(dns.server, 'TXT:cancel.example.com', 'cancel:TXT:cancel.example.com')
    check(r, 0, 'cancelling one waiter keeps the other', status='OK')
    tap.ok(1 not in r.answers and '#1 cancelled' in r.stdout, 'the cancelled waiter gets no call')

    r = dnsq(dns.server, 'TXT:example.com', 'TXT:example.com', 'TXT:example.com', 'A:example.com',
             opts=['-x'])
    got = sorted(r.answers)
    tap.ok(len(got) == 1 and r.stdout.count('cancelled') == 3 and r.returncode == 0,
           'a callback cancelling the other waiters of its own flight', r.stdout + r.stderr)

# --- servers dnsd does not imitate: no EDNS0, dangling CNAMEs --------------
# A few lines of dnslib in a separate process: an old server answering
# FORMERR to EDNS0, and an authoritative-only one giving a CNAME without its
# target (the resolver asks again for the target).
ODD_SERVER = r"""
import struct
from dnslib import RR, QTYPE, RCODE, TXT, CNAME


def answer(q, data, edns, log):
    name = str(q.q.qname).rstrip('.').lower()
    log.write('%s edns=%d\n' % (name, edns))
    a = q.reply()
    a.header.aa = 1
    if name == 'old.example' and edns:
        a = q.reply()
        a.header.rcode = RCODE.FORMERR
    elif name == 'old.example':
        a.add_answer(RR('old.example', QTYPE.TXT, rdata=TXT('no edns here'), ttl=100))
    elif name == 'dangle.example':
        a.add_answer(RR('dangle.example', QTYPE.CNAME, rdata=CNAME('target.example'), ttl=50))
    elif name == 'target.example':
        a.add_answer(RR('target.example', QTYPE.TXT, rdata=TXT('chased'), ttl=500))
    elif name.endswith('.bad'):
        # Hostile answers: the right ID and question, then garbage.
        raw = bytearray(q.reply().pack())
        kind = name.split('.')[0]
        if kind == 'ptrloop':      # one record whose owner points at itself
            off = len(raw)
            raw[6:8] = struct.pack('>H', 1)
            raw += struct.pack('>H', 0xc000 | off) + struct.pack('>HHIH', 16, 1, 60, 2) + b'\x01x'
        elif kind == 'huge':       # 65535 answers announced, one present
            raw[6:8] = struct.pack('>H', 65535)
            raw += b'\xc0\x0c' + struct.pack('>HHIH', 16, 1, 60, 2) + b'\x01x'
        elif kind == 'cut':        # a record cut in the middle
            raw[6:8] = struct.pack('>H', 1)
            raw += b'\xc0\x0c' + struct.pack('>HHIH', 16, 1, 60, 200) + b'\x05abc'
        elif kind == 'txtover':    # a string longer than its record
            raw[6:8] = struct.pack('>H', 1)
            raw += b'\xc0\x0c' + struct.pack('>HHIH', 16, 1, 60, 3) + b'\x09abcdefghi'
        return bytes(raw)
    else:
        a.header.rcode = RCODE.NXDOMAIN
    return a.pack()
"""


odd = dnscheck.ScriptServer(ODD_SERVER)
try:
    if odd.server is None:
        raise RuntimeError('odd server: %r' % odd.ready_line)
    r = dnsq(odd.server, 'TXT:old.example', 'TXT:dangle.example', opts=['-c', '10000'])
    check(r, 0, 'FORMERR to EDNS0: asked again without it', status='OK', n=1)
    tap.is_(r.records.get(0), ['TXT strings=1 first=12 len=12 "no edns here" ttl=100'],
            'no-EDNS answer')
    tap.is_([l for l in odd.queries() if l.startswith('old.')],
            ['old.example edns=1', 'old.example edns=0'], 'EDNS0 first, then plain')
    check(r, 1, 'CNAME without its target: the target is asked for', status='OK', n=1,
          canon='target.example', ttl=50)
    tap.is_(r.records.get(1), ['TXT strings=1 first=6 len=6 "chased" ttl=500'],
            'chased record')
    kinds = ['ptrloop', 'huge', 'cut', 'txtover']
    r = dnsq(odd.server, *['TXT:%s.bad' % k for k in kinds], opts=['-c', '10000'])
    for i, k in enumerate(kinds):
        check(r, i, 'hostile answer (%s): SERVFAIL, not cached' % k, status='SERVFAIL', ttl=0)
finally:
    odd.stop()

dq.all_runs_clean()

# --- servers: list, IPv6 literal, bad syntax ------------------------------
with testlib.Dnsd(zone=ZONE, delay_ms=0) as dns:
    # A dead server first: c-ares moves on to the next one.
    r = testlib.run([DNSQ, '-s', '127.0.0.1:9', '-s', dns.server, '-t', '300', '-r', '2',
                     'A:example.com'])
    tap.ok('status=OK' in r.stdout, 'second server answers when the first is dead', r.stdout + r.stderr)

r = testlib.run([DNSQ, '-s', 'dns.example.com', 'A:example.com'])
tap.ok(r.returncode != 0 and 'want an IP address' in r.stderr, 'host name as server: clear error',
       r.stderr)
r = testlib.run([DNSQ, '-s', '127.0.0.1:99999', 'A:example.com'])
tap.ok(r.returncode != 0 and 'DNS server' in r.stderr, 'bad port: clear error', r.stderr)

if dnscheck.have_ipv6():
    with testlib.Dnsd(zone=ZONE, addr='::1') as dns6:
        r = testlib.run([DNSQ, '-s', '[::1]:%d' % dns6.port, '-t', '1000', '-r', '1',
                         'TXT:example.com'])
        tap.ok('#0 TXT example.com status=OK' in r.stdout, '[v6]:port server', r.stdout + r.stderr)
else:
    tap.diag('no IPv6 loopback here: [v6]:port checked for syntax only')
    r = testlib.run([DNSQ, '-s', '[::1]:53', '-t', '100', '-r', '1', 'A:example.com'])
    tap.ok('status=' in r.stdout, '[v6]:port accepted', r.stdout + r.stderr)

tap.done()
