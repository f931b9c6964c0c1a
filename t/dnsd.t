#!/usr/bin/python3
# dnsd.t - t/dnsd.py answers what the zone says, over UDP and TCP, the way
# the other tests rely on (strings byte for byte, CNAMEs, TIMEOUT, SERVFAIL,
# TRUNCATE, TTL, delay), survives garbage and stops on SIGTERM.

import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib  # noqa: E402
import dnslib   # noqa: E402

tap = testlib.Tap()

ZONE = {
    'example.com': [
        {'TXT': 'v=spf1 -all'},
        {'TXT': ['part one ', 'part two']},
        {'A': '192.0.2.1'},
        {'MX': [10, 'mx.example.com']},
        {'TTL': 60},
        {'AAAA': '2001:db8::1'},
    ],
    'odd.example.com': [
        {'TXT': 'v=spf1 a:\u00ef\u00bb\u00bfgarbage.example.net -all'},
        {'TXT': 'nul\x00and\rcr'},
        {'TXT': 'x' * 300},
        {'SPF': 'v=spf1 ?all'},
    ],
    'alias.example.com': [{'CNAME': 'Chain.example.com.'}],
    'chain.example.com': [{'CNAME': 'example.com'}],
    'loop.example.com': [{'CNAME': 'loop.example.com'}],
    'dangling.example.com': [{'CNAME': 'nowhere.example.com'}],
    '4.3.2.1.in-addr.arpa': [{'PTR': 'Mail.Example.com'}],
    'timeout.example.com': ['TIMEOUT'],
    'part.example.com': [{'TXT': 'v=spf1 -all'}, 'TIMEOUT'],
    'servfail.example.com': ['SERVFAIL'],
    'trunc.example.com': ['TRUNCATE', {'TXT': 'v=spf1 +all'}],
    'many.example.com': [{'TXT': 'record %d %s' % (i, 'y' * 40)} for i in range(20)],
}


def query(port, name, qtype, tcp=False, timeout=2.0):
    q = dnslib.DNSRecord.question(name, qtype)
    raw = q.send('127.0.0.1', port, tcp=tcp, timeout=timeout)
    return dnslib.DNSRecord.parse(raw)


def query_settled(port, name, qtype, tcp=False):
    # After a storm the server may still be working through its backlog
    # (the machine may be loaded too): allow it ten seconds.
    for _ in range(5):
        try:
            return query(port, name, qtype, tcp=tcp, timeout=2.0)
        except socket.timeout:
            continue
    return None


def rcode(r):
    if r is None:
        return 'no answer'
    return dnslib.RCODE[r.header.rcode]


def txts(r):
    return [tuple(bytes(s) for s in a.rdata.data) for a in r.rr if a.rtype == dnslib.QTYPE.TXT]


def silent(port, name, qtype, tcp):
    try:
        query(port, name, qtype, tcp=tcp, timeout=0.5)
        return False
    except socket.timeout:
        return True
    except OSError:
        return False


with testlib.Dnsd(zone=ZONE) as d:
    p = d.port
    tap.ok(p > 0, 'ready line names a port')

    for tcp in (False, True):
        proto = 'tcp' if tcp else 'udp'
        r = query(p, 'example.com', 'TXT', tcp)
        tap.is_(sorted(txts(r)), [(b'part one ', b'part two'), (b'v=spf1 -all',)],
                '%s: TXT records, several strings kept apart' % proto)
        r = query(p, 'EXAMPLE.Com', 'AAAA', tcp)
        tap.is_([(str(a.rdata), a.ttl) for a in r.rr], [('2001:db8::1', 60)],
                '%s: case-insensitive name, TTL: applies to later records' % proto)
        tap.is_(str(r.q.qname), 'EXAMPLE.Com.', '%s: question echoed with its case' % proto)

    r = query(p, 'example.com', 'A')
    tap.is_([(str(a.rdata), a.ttl) for a in r.rr], [('192.0.2.1', 3600)], 'A with default TTL 3600')
    r = query(p, 'example.com', 'MX')
    tap.is_([(a.rdata.preference, str(a.rdata.label)) for a in r.rr], [(10, 'mx.example.com.')], 'MX')
    r = query(p, '4.3.2.1.in-addr.arpa', 'PTR')
    tap.is_([str(a.rdata) for a in r.rr], ['Mail.Example.com.'], 'PTR keeps the zone\'s case')

    r = query(p, 'odd.example.com', 'TXT')
    got = sorted(txts(r))
    tap.is_(got, sorted([('v=spf1 a:\u00ef\u00bb\u00bfgarbage.example.net -all'.encode('utf-8'),),
                         (b'nul\x00and\rcr',), (b'x' * 255, b'x' * 45)]),
            'odd bytes served as UTF-8, NUL and CR kept, 300 bytes split 255+45')
    r = query(p, 'odd.example.com', 'SPF')
    tap.is_([bytes(a.rdata.data) for a in r.rr if a.rtype == 99],
            [b'\x0bv=spf1 ?all'], 'type SPF (99) served as TXT-shaped rdata')

    r = query(p, 'nx.example.com', 'A')
    tap.is_((rcode(r), len(r.rr), [a.rtype for a in r.auth]), ('NXDOMAIN', 0, [dnslib.QTYPE.SOA]),
            'name not in zone: NXDOMAIN with SOA')
    r = query(p, 'example.com', 'PTR')
    tap.is_((rcode(r), len(r.rr), [a.rtype for a in r.auth]), ('NOERROR', 0, [dnslib.QTYPE.SOA]),
            'name without that type: NODATA with SOA')
    tap.is_(r.auth[0].ttl if r.auth else None, 300, 'negative TTL 300 by default')

    r = query(p, 'alias.example.com', 'A')
    tap.is_([(str(a.rname), dnslib.QTYPE[a.rtype], str(a.rdata)) for a in r.rr],
            [('alias.example.com.', 'CNAME', 'Chain.example.com.'),
             ('Chain.example.com.', 'CNAME', 'example.com.'),
             ('example.com.', 'A', '192.0.2.1')], 'CNAME chain followed to the target\'s A')
    r = query(p, 'alias.example.com', 'CNAME')
    tap.is_([dnslib.QTYPE[a.rtype] for a in r.rr], ['CNAME'], 'CNAME query gives only the CNAME')
    r = query(p, 'loop.example.com', 'A')
    tap.is_((rcode(r), [dnslib.QTYPE[a.rtype] for a in r.rr]), ('NOERROR', ['CNAME']),
            'CNAME loop answered once, no hang')
    r = query(p, 'dangling.example.com', 'TXT')
    tap.is_((rcode(r), [dnslib.QTYPE[a.rtype] for a in r.rr]), ('NXDOMAIN', ['CNAME']),
            'CNAME to a missing name: NXDOMAIN with the CNAME')

    tap.ok(silent(p, 'timeout.example.com', 'TXT', False), 'TIMEOUT: no UDP answer')
    tap.ok(silent(p, 'timeout.example.com', 'A', True), 'TIMEOUT: no TCP answer')
    r = query(p, 'part.example.com', 'TXT')
    tap.is_(txts(r), [(b'v=spf1 -all',)], 'type listed before TIMEOUT is answered')
    tap.ok(silent(p, 'part.example.com', 'A', False), 'type not listed before TIMEOUT is silent')

    r = query(p, 'servfail.example.com', 'TXT')
    tap.is_(rcode(r), 'SERVFAIL', 'SERVFAIL entry gives rcode 2')

    r = query(p, 'trunc.example.com', 'TXT')
    tap.is_((r.header.tc, len(r.rr)), (1, 0), 'TRUNCATE: UDP answer has TC and no records')
    r = query(p, 'trunc.example.com', 'TXT', tcp=True)
    tap.is_((r.header.tc, txts(r)), (0, [(b'v=spf1 +all',)]), 'TRUNCATE: TCP answer complete')

    r = query(p, 'many.example.com', 'TXT')
    tap.is_((r.header.tc, len(r.rr)), (1, 0), 'over 512 bytes without EDNS: TC over UDP')
    r = query(p, 'many.example.com', 'TXT', tcp=True)
    tap.is_(len(r.rr), 20, 'same answer complete over TCP')
    q = dnslib.DNSRecord.question('many.example.com', 'TXT')
    q.add_ar(dnslib.EDNS0(udp_len=4096))
    r = dnslib.DNSRecord.parse(q.send('127.0.0.1', p, timeout=2))
    tap.is_((r.header.tc, len(r.rr)), (0, 20), 'with EDNS the UDP answer fits')

    # Garbage must not take the server down.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    for junk in (b'', b'\x01', b'\x12\x34' + b'\xff' * 30, b'\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c',
                 os.urandom(64), b'\x00\x02\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3f' + b'a' * 10):
        s.sendto(junk, ('127.0.0.1', p))
    formerr = None
    try:
        data, _ = s.recvfrom(4096)
        formerr = data
    except socket.timeout:
        pass
    s.close()
    # Mutated real queries (with EDNS, compression pointers) by the hundred.
    import random
    rnd = random.Random(7208)
    base = dnslib.DNSRecord.question('alias.example.com', 'TXT')
    base.add_ar(dnslib.EDNS0(udp_len=1232))
    base = bytearray(base.pack())
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(600):
        m = bytearray(base)
        for _ in range(rnd.randint(1, 6)):
            m[rnd.randrange(len(m))] = rnd.randrange(256)
        if rnd.random() < 0.3:
            m = m[:rnd.randrange(len(m))]
        s.sendto(bytes(m), ('127.0.0.1', p))
    s.close()
    t = socket.create_connection(('127.0.0.1', p), timeout=2)
    t.sendall(b'\x00\x05abcde\x00')
    t.close()
    stall = socket.create_connection(('127.0.0.1', p), timeout=2)
    stall.sendall(b'\x00\x40\x12')      # a length, then silence
    r = query_settled(p, 'example.com', 'A')
    tap.is_(rcode(r), 'NOERROR', 'still answering after garbage over UDP and TCP')
    r = query(p, 'example.com', 'A', tcp=True)
    tap.is_(rcode(r), 'NOERROR', 'a stalled TCP client does not block others')
    stall.close()
    tap.ok(d.proc.poll() is None, 'dnsd alive after 600 mutated queries')
    bad = [l for l in d.queries() if 'internal error' in l]
    tap.ok(not bad, 'no internal error while parsing them', '\n'.join(bad[:5]))
    tap.ok(formerr is not None and (formerr[3] & 0xF) == 1, 'malformed query with a header gets FORMERR')

    # Several queries pipelined on one TCP connection.
    t = socket.create_connection(('127.0.0.1', p), timeout=2)
    for i, n in enumerate(('example.com', 'odd.example.com', 'alias.example.com')):
        w = dnslib.DNSRecord.question(n, 'A')
        w.header.id = 100 + i
        b = w.pack()
        t.sendall(struct.pack('>H', len(b)) + b)
    ids = []
    buf = b''
    while len(ids) < 3:
        chunk = t.recv(4096)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack('>H', buf[:2])[0]:
            n = struct.unpack('>H', buf[:2])[0]
            ids.append(dnslib.DNSRecord.parse(buf[2:2 + n]).header.id)
            buf = buf[2 + n:]
    t.close()
    tap.is_(sorted(ids), [100, 101, 102], 'three pipelined TCP queries, three answers')
    tap.ok(any(' example.com A NOERROR an=1' in l for l in d.queries()), 'query log written')

# --delay-ms holds each answer without serialising them.
with testlib.Dnsd(zone=ZONE, delay_ms=400) as d:
    socks = []
    t0 = time.monotonic()
    for i in range(5):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(dnslib.DNSRecord.question('example.com', 'A').pack(), ('127.0.0.1', d.port))
        socks.append(s)
    got = 0
    for s in socks:
        try:
            s.recvfrom(4096)
            got += 1
        except socket.timeout:
            pass
        s.close()
    el = time.monotonic() - t0
    tap.ok(got == 5 and 0.35 <= el < 1.2, '--delay-ms 400: 5 parallel answers in %.2fs' % el)

# Suite mode: scenario by index, SPF copied to TXT unless a TXT entry exists.
suite = '/usr/share/doc/python3-spf/rfc7208-tests.yml.gz'
with testlib.Dnsd(suite=suite, scenario=1) as d:
    r = query(d.port, 'both.example.net', 'TXT')
    tap.is_(txts(r), [(b'v=spf1 -all',)], 'suite: TXT entry served, SPF not copied')
    r = query(d.port, 'spfonly.example.net', 'TXT')
    tap.is_((rcode(r), txts(r)), ('NOERROR', []), 'suite: TXT: NONE stops the TXT copy')
    r = query(d.port, 'spfonly.example.net', 'SPF')
    tap.is_(len(r.rr), 1, 'suite: and keeps its SPF record')
    r = query(d.port, 'txttimeout.example.net', 'SPF')
    tap.is_(len(r.rr), 1, 'suite: SPF before TIMEOUT answered')
    tap.ok(silent(d.port, 'txttimeout.example.net', 'TXT', False), 'suite: TXT after TIMEOUT silent')

with testlib.Dnsd(suite=suite, scenario=0) as d:
    r = query(d.port, 'ctrl.example.com', 'TXT')
    tap.is_(txts(r), [(b'v=spf1 a:ctrl.example.com\rptr -all',)], 'suite: SPF-only name gets a TXT copy')
with testlib.Dnsd(suite=suite, scenario=0, spf_to_txt=False) as d:
    r = query(d.port, 'ctrl.example.com', 'TXT')
    tap.is_(txts(r), [], 'suite: --no-spf-to-txt turns the copy off')
with testlib.Dnsd(zone=ZONE, spf_to_txt=True) as d:
    r = query(d.port, 'odd.example.com', 'TXT')
    tap.is_(len(r.rr), 3, '--zone: TXT entries present, SPF not copied even with --spf-to-txt')

# --scenario all: one process, a port per scenario, in file order.
with testlib.Dnsd(suite=suite, scenario='all') as d:
    import gzip
    import yaml
    with gzip.open(suite) as f:
        nscen = len([x for x in yaml.load_all(f, Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader)) if x])
    tap.ok(len(d.ports) == nscen and len(set(d.ports)) == nscen,
           'suite --scenario all: %d distinct ports for %d scenarios' % (len(d.ports), nscen))
    r = query(d.ports[1], 'spfonly.example.net', 'SPF')
    tap.is_(len(r.rr), 1, 'suite all: scenario 1 zone on the second port')
    r = query(d.ports[0], 'spfonly.example.net', 'SPF', tcp=True)
    tap.is_(rcode(r), 'NXDOMAIN', 'suite all: not in scenario 0 zone (TCP)')
    tap.ok(any(l.startswith('s1 udp spfonly.example.net') for l in d.queries()),
           'suite all: log lines tagged with the scenario')

# Bad zone fails loudly; SIGTERM stops promptly; fixed port works for both.
r = testlib.run([testlib.PYTHON, testlib.DNSD, '--port', '0', '--zone', '/nonexistent.yml'], timeout=10)
tap.ok(r.returncode == 2 and 'dnsd:' in r.stderr, 'missing zone file: exit 2 with a message')
with open(os.path.join(os.environ.get('TMPDIR', '/tmp'), 'dnsd-t-bad.%d.yml' % os.getpid()), 'w') as f:
    f.write('x.example.com:\n  - A: not-an-ip\n')
    bad = f.name
r = testlib.run([testlib.PYTHON, testlib.DNSD, '--port', '0', '--zone', bad], timeout=10)
os.unlink(bad)
tap.ok(r.returncode == 2 and 'not-an-ip' in r.stderr, 'bad A data: exit 2 naming it')

d = testlib.Dnsd(zone=ZONE)
port = d.port
d.stop()
d2 = testlib.Dnsd(zone=ZONE, port=port)
tap.is_(d2.port, port, 'explicit --port reused for UDP and TCP')
r = query(port, 'example.com', 'A', tcp=True)
tap.is_(rcode(r), 'NOERROR', 'answers on the fixed port over TCP')
t0 = time.monotonic()
d2.proc.send_signal(15)
try:
    rc = d2.proc.wait(3)
except subprocess.TimeoutExpired:
    rc = None
el = time.monotonic() - t0
d2.stop()
tap.ok(rc == 0 and el < 1.5, 'SIGTERM: exit 0 in %.2fs' % el)

tap.done()
