#!/usr/bin/python3
# The per-request deadline: a check whose DNS never answers is answered
# before Request_Timeout (here 3 s) as a temperror per the config, never
# left for Postfix to time out; a request pipelined behind it waits its turn.
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib, proto

tap = testlib.Tap()
zone = {'slow.example': ['TIMEOUT'],
        'mx.example.com': [{'TXT': 'v=spf1 ip4:192.0.2.0/24 -all'}]}
TEMP = (b'action=prepend Received-SPF: Temperror (mailfrom) identity=mailfrom; '
        b'client-ip=192.0.2.1; helo=mx.example.com; envelope-from=a@slow.example; '
        b'receiver=example.net \n\n')
DEFER = (b'action=defer_if_permit 4.7.24 Message deferred due to: SPF Temporary Error: '
         b'DNS Timeout. Please see http://www.openspf.net/Why?s=mfrom;id=a@slow.example;'
         b'ip=192.0.2.1;r=example.net\n\n')


def slow_request(i):
    return proto.request(i, client='192.0.2.1').replace(
        b'helo_name=h%d.example.org' % i, b'helo_name=mx.example.com').replace(
        b'sender=Alice%d@Example.ORG' % i, b'sender=a@slow.example')


with testlib.Dnsd(zone=zone) as dns:
    for conf, want, label in (('', TEMP, 'default: Temperror header'),
                              ('TempError_Defer = True\n', DEFER, 'TempError_Defer: deferred')):
        srv = proto.Server('tcp', conf='Request_Timeout = 3\n' + conf,
                           args=['--dns-server', dns.server])
        c = srv.connect()
        t0 = time.monotonic()
        c.send(slow_request(1) + proto.request(2))
        got = c.reply(30)
        took = time.monotonic() - t0
        tap.is_(got, want, label)
        tap.ok(2.5 <= took < 3.9, '%s: answered at the deadline (%.2f s)' % (label, took))
        tap.is_(c.reply(5), proto.reply(2), '%s: pipelined request answered after it' % label)
        c.close()
        srv.stop()

    # spawn mode has the same deadline
    sp = proto.Spawn(conf='Request_Timeout = 3\nDNS_Servers = %s\n' % dns.server)
    t0 = time.monotonic()
    sp.client.send(slow_request(3).replace(b'instance=3.', b'instance=1.'))
    got = sp.client.reply(30)
    tap.is_(got, TEMP, 'spawn: Temperror at the deadline (%.2f s)' % (time.monotonic() - t0))
    sp.client.shutdown_write()
    tap.is_(sp.wait(), 0, 'spawn: exit 0 at EOF')
    sp.stop()
tap.done()
