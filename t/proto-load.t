#!/usr/bin/python3
# Concurrency with real checks: 400 connections whose checks all wait on a
# slow DNS server (300 ms per answer) at the same time.  One event loop
# serves them together: the whole run takes about as long as one check,
# not 400 of them, and every reply is exact.
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib, proto

tap = testlib.Tap()
N = 400
zone = {}
for k in range(N):
    zone['d%d.example' % k] = [{'TXT': 'v=spf1 ip4:192.0.2.0/24 -all'}]
zone['mx.example.com'] = [{'TXT': 'v=spf1 ip4:192.0.2.0/24 -all'}]
PASS = ('action=prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.7; '
        'helo=mx.example.com; envelope-from=a@d%d.example; receiver=example.net \n\n')


def spf_request(k):
    return proto.request(k, client='192.0.2.7').replace(
        b'helo_name=h%d.example.org' % k, b'helo_name=mx.example.com').replace(
        b'sender=Alice%d@Example.ORG' % k, b'sender=a@d%d.example' % k)


with testlib.Dnsd(zone=zone, delay_ms=300) as dns:
    for transport in ('tcp', 'unix'):
        srv = proto.Server(transport, args=['--dns-server', dns.server])
        conns = [srv.connect() for _ in range(N)]
        t0 = time.monotonic()
        for k, c in enumerate(conns):
            c.send(spf_request(k))
        got = [c.reply(60) for c in conns]
        took = time.monotonic() - t0
        bad = [(k, g) for k, g in enumerate(got) if g != (PASS % k).encode()]
        tap.ok(not bad, '%s: %d concurrent DNS-backed checks, exact replies' % (transport, N),
               diag=bad[:3])
        limit = 30 if os.environ.get('PSPF_ASAN') else 10
        tap.ok(took < limit, '%s: answered together in %.1f s (one check waits >= 0.3 s)'
               % (transport, took))
        for c in conns:
            c.close()
        srv.stop()
tap.done()
