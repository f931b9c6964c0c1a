#!/usr/bin/python3
# Signals while connections are open: SIGHUP with a good and with a broken
# config, SIGTERM with checks in flight (DNS answers delayed by t/dnsd.py),
# and the worker processes (supervision, SIGHUP/SIGTERM forwarding).
import os, signal, socket, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib, proto

tap = testlib.Tap()

# The SIGHUP and SIGTERM sections watch one process's log lines and
# connection counts: one worker, whatever the CPU count (the workers
# section below covers the supervisor passing the signals on).
ONE = 'Idle_Timeout = 60\nWorkers = 1\n'

# ---- SIGHUP
srv = proto.Server('tcp', conf=ONE)
a = srv.connect()
a.send(proto.request(1))
tap.is_(a.reply(), proto.reply(1), 'hup: before reload, receiver shown')
srv.write_conf(ONE + 'Hide_Receiver = Yes\n')
n = len(srv.logs())
srv.signal(signal.SIGHUP)
tap.ok(srv.wait_log('configuration reloaded', start=n) is not None, 'hup: reload logged')
a.send(proto.request(2))
tap.is_(a.reply(), proto.reply(2, receiver='<UNKNOWN>'),
        'hup: open connection sees the new config')
b = srv.connect()
b.send(proto.request(3))
tap.is_(b.reply(), proto.reply(3, receiver='<UNKNOWN>'), 'hup: new connection too')

srv.write_conf(ONE + 'Hide_Receiver = No\ndebugLevel = yes\n')
n = len(srv.logs())
srv.signal(signal.SIGHUP)
line = srv.wait_log('keeping the previous configuration', start=n)
tap.ok(line is not None and (srv.conf + ':4') in line,
       'hup: broken config logged with file and line', diag=line or srv.log_text()[-1000:])
a.send(proto.request(4))
tap.is_(a.reply(), proto.reply(4, receiver='<UNKNOWN>'),
        'hup: broken config: old one kept, open connection still works')
c = srv.connect()
c.send(proto.request(5))
tap.is_(c.reply(), proto.reply(5, receiver='<UNKNOWN>'), 'hup: and new connections too')
for x in (a, b, c):
    x.close()
srv.signal(signal.SIGTERM)
tap.is_(srv.wait(), 0, 'hup: SIGTERM afterwards, exit 0')
srv.stop()

# ---- SIGTERM with checks in flight
zone = {'example.com': [{'TXT': 'v=spf1 ip4:192.0.2.0/24 -all'}],
        'mx.example.com': [{'TXT': 'v=spf1 ip4:192.0.2.0/24 -all'}]}
PASS = ('action=prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.%d; '
        'helo=mx.example.com; envelope-from=alice@example.com; receiver=example.net \n\n')


def spf_request(k):
    return proto.request(k, client='192.0.2.%d' % k).replace(
        b'helo_name=h%d.example.org' % k, b'helo_name=mx.example.com').replace(
        b'sender=Alice%d@Example.ORG' % k, b'sender=alice@example.com')


with testlib.Dnsd(zone=zone, delay_ms=1500) as dns:
    srv = proto.Server('tcp', conf=ONE, args=['--dns-server', dns.server])
    t0 = time.monotonic()
    conns = [srv.connect() for _ in range(3)]
    for k, c in enumerate(conns, 1):
        c.send(spf_request(k))
    time.sleep(0.5)
    n = len(srv.logs())
    srv.signal(signal.SIGTERM)
    tap.ok(srv.wait_log('SIGTERM: stopping, 3 open connections', start=n) is not None,
           'term: stop logged with the open connections')
    try:
        s = socket.create_connection(('127.0.0.1', srv.port), timeout=2)
        s.close()
        refused = False
    except OSError:
        refused = True
    tap.ok(refused, 'term: no new connections accepted')
    got = [c.reply() for c in conns]
    tap.ok(got == [(PASS % k).encode() for k in (1, 2, 3)],
           'term: all three checks in flight answered exactly', diag=got)
    tap.ok(time.monotonic() - t0 >= 1.4, 'term: the answers waited for DNS (%.1f s)'
           % (time.monotonic() - t0))
    tap.ok(all(c.eof() for c in conns), 'term: connections closed after the answer')
    tap.is_(srv.wait(15), 0, 'term: exit status 0')
    srv.stop()

    # spawn mode: the one check in flight is answered, then exit 0
    sp = proto.Spawn(conf='DNS_Servers = %s\n' % dns.server)
    sp.client.send(spf_request(4))
    time.sleep(0.5)
    sp.proc.send_signal(signal.SIGTERM)
    tap.is_(sp.client.reply(), (PASS % 4).encode(), 'term spawn: check in flight answered')
    tap.ok(sp.client.eof(), 'term spawn: then the connection is closed')
    tap.is_(sp.wait(), 0, 'term spawn: exit status 0')
    sp.stop()

# ---- workers


srv = proto.Server('tcp', conf='Idle_Timeout = 60\n', args=['--workers', '2'])
srv.wait_log('2 worker processes started')
kids = proto.children(srv.pid)
tap.is_(len(kids), 2, 'workers: two worker processes')
conns = [srv.connect() for _ in range(20)]
for k, c in enumerate(conns):
    c.send(proto.request(k))
tap.ok([c.reply() for c in conns] == [proto.reply(k) for k in range(20)],
       'workers: 20 connections served')
for c in conns:
    c.close()
os.kill(kids[0], signal.SIGKILL)
tap.ok(srv.wait_log('killed by signal 9') is not None, 'workers: a dead worker is logged')
deadline = time.monotonic() + 5
while time.monotonic() < deadline and (len(proto.children(srv.pid)) != 2 or kids[0] in proto.children(srv.pid)):
    time.sleep(0.1)
now = proto.children(srv.pid)
tap.ok(len(now) == 2 and kids[0] not in now, 'workers: and replaced', diag=(kids, now))
c = srv.connect()
c.send(proto.request(99))
tap.is_(c.reply(), proto.reply(99), 'workers: served after the restart')
c.close()
srv.write_conf('Idle_Timeout = 60\nHide_Receiver = Yes\n')
n = len(srv.logs())
srv.signal(signal.SIGHUP)
deadline = time.monotonic() + 5
while time.monotonic() < deadline and sum('configuration reloaded' in l for l in srv.logs()[n:]) < 2:
    time.sleep(0.05)
tap.is_(sum('configuration reloaded' in l for l in srv.logs()[n:]), 2,
        'workers: SIGHUP reaches both workers')
c = srv.connect()
c.send(proto.request(100))
tap.is_(c.reply(), proto.reply(100, receiver='<UNKNOWN>'), 'workers: new config in use')
c.close()
srv.signal(signal.SIGTERM)
tap.is_(srv.wait(), 0, 'workers: SIGTERM, exit 0')
tap.is_(proto.children(srv.pid), [], 'workers: no worker left')
srv.stop()
tap.done()
