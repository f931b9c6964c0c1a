#!/usr/bin/python3
# SIGUSR1: each process (each worker, the supervisor passing the signal
# on) logs one "stats:" line with its connections, requests by what the
# reply did, DNS and cache counters and its CPU time; nothing else
# changes (connections stay open and keep being served).
import os, re, signal, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib, proto

tap = testlib.Tap()

STATS = re.compile(
    r'stats: (worker (\d+), )?up (\d+) s; (\d+) connections? \((\d+) accepted, (accepting|not accepting|spawn)\); '
    r'(\d+) requests: (\d+) prepend, (\d+) dunno, (\d+) reject, (\d+) defer, (\d+) other; '
    r'DNS: (\d+) queries sent, (\d+) answers from cache, (\d+) shared, (\d+) in flight, (\d+) waiting; '
    r'cache (\d+) entries, (\d+) bytes; CPU (\d+\.\d\d) s$')


def stats_lines(srv, n, want):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        got = [l for l in srv.logs()[n:] if 'stats:' in l]
        if len(got) >= want:
            return got
        time.sleep(0.05)
    return [l for l in srv.logs()[n:] if 'stats:' in l]


# ---- one process: counts follow what was served
srv = proto.Server('tcp', conf='Idle_Timeout = 60\nWorkers = 1\n')
a, b = srv.connect(), srv.connect()
for i, c in enumerate([a, a, b]):
    c.send(proto.request(i))
    tap.is_(c.reply(), proto.reply(i), 'request %d answered' % i)
a.send(proto.request(0))            # the same instance again: a replay, dunno
tap.is_(a.reply(), proto.DUNNO, 'a replay gets dunno')
n = len(srv.logs())
srv.signal(signal.SIGUSR1)
got = stats_lines(srv, n, 1)
tap.is_(len(got), 1, 'SIGUSR1: one stats line', diag=srv.log_text()[-800:])
m = STATS.search(got[0]) if got else None
tap.ok(m is not None, 'in the documented form', diag=got)
if m:
    tap.is_(m.group(1), None, 'a single process names no worker')
    tap.is_([m.group(4), m.group(5), m.group(6)], ['2', '2', 'accepting'], '2 connections, 2 accepted, accepting')
    tap.is_([m.group(k) for k in range(7, 13)], ['4', '3', '1', '0', '0', '0'],
            '4 requests: 3 prepend, 1 dunno')
    tap.is_(m.group(13), '0', 'no DNS query for local clients')
a.send(proto.request(7))
tap.is_(a.reply(), proto.reply(7), 'still served after SIGUSR1')
srv.signal(signal.SIGTERM)
tap.is_(srv.wait(), 0, 'SIGTERM, exit 0')
srv.stop()

# ---- workers: a line from each
srv = proto.Server('tcp', conf='Idle_Timeout = 60\n', args=['--workers', '2'])
srv.wait_log('2 worker processes started')
time.sleep(0.3)
c = srv.connect()
c.send(proto.request(3))
tap.is_(c.reply(), proto.reply(3), 'workers: served')
n = len(srv.logs())
srv.signal(signal.SIGUSR1)
got = stats_lines(srv, n, 2)
ms = [STATS.search(l) for l in got]
tap.is_(sorted(m.group(2) for m in ms if m), ['1', '2'], 'workers: one line from each worker', diag=got)
tap.is_(sorted(m.group(7) for m in ms if m), ['0', '1'], 'workers: the request counted once')
c.close()
srv.signal(signal.SIGTERM)
tap.is_(srv.wait(), 0, 'workers: SIGTERM, exit 0')
srv.stop()
tap.done()
