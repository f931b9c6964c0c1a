#!/usr/bin/python3
# The daemon's DNS cache under a check that is still running: a check holds
# the answers it has read, so the cached answer expiring (and being replaced
# by a new query of another check) or being evicted by the memory bound
# while the check waits for a slow include must not change its result.
# Run under ASan by make check, where a freed answer would be caught.
import os, sys, time, threading
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib, proto

tap = testlib.Tap()
zone = {
    # TTL 1: expired long before the include below answers
    'top.example': [{'TTL': 1}, {'TXT': 'v=spf1 include:slow.example ip4:192.0.2.1 -all'}],
    'slow.example': [{'DELAY': 1800}, {'TTL': 1}, {'TXT': 'v=spf1 ip4:192.0.2.9 -all'}],
}
# 60 names to push top.example out of a small cache
for i in range(60):
    zone['fill%d.example' % i] = [{'TXT': 'v=spf1 ip4:198.51.100.%d ' % i + ' '.join(
        'ip4:203.0.113.%d' % k for k in range(12)) + ' -all'}]


def req(i, sender):
    return proto.request(i, client='192.0.2.1').replace(
        b'sender=Alice%d@Example.ORG' % i, b'sender=' + sender.encode())


def pass_reply(i, sender):
    return ('action=prepend Received-SPF: Pass (mailfrom) identity=mailfrom; '
            'client-ip=192.0.2.1; helo=h%d.example.org; envelope-from=%s; '
            'receiver=example.net \n\n' % (i, sender)).encode()


def ask(srv, i, sender, out):
    c = srv.connect()
    c.send(req(i, sender))
    out[i] = c.reply(20)
    c.close()


with testlib.Dnsd(zone=zone) as dns:
    # 1. expiry: A reads top.example (TTL 1) and waits 2.5 s for
    #    slow.example; at 1.5 s B finds top.example expired, asks again
    #    (the cache entry is replaced) and joins A's slow.example query.
    srv = proto.Server('tcp', conf='debugLevel = 2\nWorkers = 1\n',
                       args=['--dns-server', dns.server])
    got = {}
    a = threading.Thread(target=ask, args=(srv, 1, 'a@top.example', got))
    t0 = time.monotonic()
    a.start()
    time.sleep(1.2)
    ask(srv, 2, 'b@top.example', got)
    a.join(20)
    took = time.monotonic() - t0
    tap.is_(got.get(1), pass_reply(1, 'a@top.example'),
            'A: Pass, although its top.example answer expired and was replaced meanwhile')
    tap.is_(got.get(2), pass_reply(2, 'b@top.example'), 'B: Pass with the new answer')
    tap.ok(1.7 < took < 6, 'A waited for the slow include (%.2f s)' % took)
    q = dns.queries()
    tap.is_(sum(1 for l in q if ' top.example TXT' in l), 2,
            'top.example asked twice (expired after 1 s)', '\n'.join(q))
    tap.is_(sum(1 for l in q if ' slow.example TXT' in l), 1,
            'slow.example asked once (B joined A\'s query)', '\n'.join(q))
    logs = srv.log_text()
    tap.ok('spfcheck: mailfrom b@top.example: pass; lookups 1, voids 0, DNS questions 2 (0 from cache)'
           in logs, 'B\'s stats line: two questions, none from the cache', logs[-1500:])
    srv.stop()

    # 2. eviction: a 16 kB cache; while A waits for slow.example, 60
    #    requests for other domains push top.example (and the rest) out.
    srv = proto.Server('tcp', conf='Workers = 1\nDNS_Cache_Size = 16384\n',
                       args=['--dns-server', dns.server])
    got = {}
    a = threading.Thread(target=ask, args=(srv, 3, 'c@top.example', got))
    a.start()
    time.sleep(0.5)
    fill = {}
    for i in range(60):
        ask(srv, 100 + i, 'f@fill%d.example' % i, fill)
    a.join(20)
    tap.is_(got.get(3), pass_reply(3, 'c@top.example'),
            'A: Pass, although the memory bound evicted its answers meanwhile')
    want = {i: ('action=550 5.7.23 Message rejected due to: SPF fail - not authorized. '
                'Please see http://www.openspf.net/Why?s=mfrom;id=f@fill%d.example;'
                'ip=192.0.2.1;r=example.net\n\n' % (i - 100)).encode() for i in range(100, 160)}
    tap.is_(fill, want, '60 fill requests from a client outside their ip4: rejected each')
    srv.signal(0)
    tap.ok(srv.proc.poll() is None, 'server still running')
    srv.stop()
tap.done()
