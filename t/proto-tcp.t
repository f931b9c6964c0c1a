#!/usr/bin/python3
# The policy protocol over TCP (IPv4 and IPv6): framing, pipelining, bounds,
# concurrency, clients that never read or go silent, the connection cap.
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib, proto

tap = testlib.Tap()
# 300 connections must all be served before the first one idles out;
# the sanitizer build is several times slower.
IDLE = 8 if os.environ.get("PSPF_ASAN") else 3
srv = proto.Server('tcp', conf='Idle_Timeout = %d\n' % IDLE)
proto.scenarios_one_connection(tap, srv.connect, 'tcp')
proto.scenarios_daemon(tap, srv, 'tcp', IDLE)
# random bytes (NULs, CRs, invalid UTF-8, long and blank lines): every
# connection ends with well-formed replies only, and the server lives on
import random, re
rnd = random.Random(5321)
pieces = [b'\n', b'\n\n', b'=', b'\r', b'\x00', b'\xff', b'\xc3', b'client_address=',
          b'127.0.0.1', b'helo_name=', b'sender=', b'a@b', b' ', b'x' * 3000, b'\xe2\x80\xa8']
shape = re.compile(rb'\A(action=[^\n]+\n\n)*\Z')
bad = []
for k in range(60):
    data = b''.join(rnd.choice(pieces) for _ in range(rnd.randint(1, 80)))
    c = srv.connect()
    try:
        c.send(data)
        c.shutdown_write()
    except OSError:
        pass
    out = b''
    while True:
        d = c._fill(10)
        if not d:
            break
        out += d
    c.close()
    if not shape.match(out) or out.count(b'\n\n') > data.count(b'\n'):
        bad.append((data[:80], out[:200]))
tap.ok(not bad, 'tcp: 60 connections of random bytes: only well-formed replies', diag=bad[:3])
c = srv.connect()
c.send(proto.request(4242))
tap.is_(c.reply(), proto.reply(4242), 'tcp: server fine after the random input')
c.close()

# pipelined replies leave at once (TCP_NODELAY): with Nagle and delayed
# ACKs each batch of 8 would wait about 40 ms
c = srv.connect()
blob = b''.join(proto.request(i) for i in range(8))
t0 = time.monotonic()
for k in range(50):
    c.send(blob)
    for i in range(8):
        c.reply()
took = time.monotonic() - t0
tap.ok(took < 1.5, 'tcp: 50 pipelined batches of 8 in %.2f s (Nagle would need >= 2 s)' % took)
c.close()

logs = srv.log_text()
tap.ok('bad request: line too long' in logs, 'tcp: oversized line logged',
       diag=logs[-1500:])
tap.ok('request too large' in logs, 'tcp: oversized request logged')
tap.ok('too many attributes' in logs, 'tcp: attribute count logged')
tap.ok('ERROR: Could not match line "this line is garbage"' in logs,
       'tcp: garbage line logged as the Python server logs it')
srv.stop()

srv6 = proto.Server('tcp6', conf='Idle_Timeout = %d\n' % IDLE)
c = srv6.connect()
c.send(proto.request(1))
tap.is_(c.reply(), proto.reply(1), 'tcp6: request over [::1]')
c.close()
srv6.stop()

# Max_Connections: the next connection waits until one closes
# the cap is per worker process: one worker, whatever the CPU count
cap = proto.Server('tcp', conf='Max_Connections = 3\nWorkers = 1\n')
held = [cap.connect() for _ in range(3)]
for k, c in enumerate(held):
    c.send(proto.request(k))
    tap.is_(c.reply(), proto.reply(k), 'cap: connection %d of 3 served' % (k + 1))
extra = cap.connect()           # completes in the kernel backlog
extra.send(proto.request(9))
tap.is_(extra.reply(timeout=1), None, 'cap: 4th connection not served while 3 are open')
held[0].close()
tap.is_(extra.reply(), proto.reply(9), 'cap: 4th connection served once one closed')
tap.ok(cap.wait_log('Max_Connections') is not None, 'cap: pause logged')
for c in held[1:] + [extra]:
    c.close()
cap.stop()
tap.done()
