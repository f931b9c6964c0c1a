#!/usr/bin/python3
# Which worker gets a new connection (policyd/spread.h): the first worker
# until it holds 100 connections or gets busy, then the next; a worker
# that drops below that takes them again; a dead worker's place passes on
# and its replacement takes it back; one at Max_Connections is passed
# over.  The busy rule is in
# t/unit/test_spread.c: a test client cannot reliably keep a worker busy
# on a shared 2-core machine.  The worker holding a connection is
# read from /proc (the server side of the TCP connection, by port), as
# `ss -tnp` would show it.
import os, signal, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib, proto

tap = testlib.Tap()
FILL = 100


def server_inodes(port):
    """Inode of the server side of each established connection to port,
    by the client's port."""
    out = {}
    with open('/proc/net/tcp') as f:
        next(f)
        for line in f:
            p = line.split()
            lport = int(p[1].split(':')[1], 16)
            rport = int(p[2].split(':')[1], 16)
            if lport == port and p[3] == '01':
                out[rport] = p[9]
    return out


def holders(srv, clients, workers):
    """The worker pid holding each client's connection (None: not found)."""
    inode_pid = {}
    for pid in workers:
        try:
            for fd in os.listdir('/proc/%d/fd' % pid):
                try:
                    link = os.readlink('/proc/%d/fd/%s' % (pid, fd))
                except OSError:
                    continue
                if link.startswith('socket:['):
                    inode_pid[link[8:-1]] = pid
        except OSError:
            pass
    ino = server_inodes(srv.port)
    return [inode_pid.get(ino.get(c.s.getsockname()[1])) for c in clients]


def count(hs, pid):
    return sum(1 for h in hs if h == pid)


def served(clients, base):
    for k, c in enumerate(clients):
        c.send(proto.request(base + k))
    return [c.reply() for c in clients] == [proto.reply(base + k) for k in range(len(clients))]


def start(n, conf):
    """A daemon with n workers, once every worker has looked at the board."""
    srv = proto.Server('tcp', conf=conf, args=['--workers', str(n)])
    srv.wait_log('%d worker processes started' % n)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(proto.children(srv.pid)) != n:
        time.sleep(0.05)
    time.sleep(0.3)
    return srv, proto.children(srv.pid)


srv, w = start(3, 'Idle_Timeout = 120\n')
tap.is_(len(w), 3, 'three workers')

# ---- fill in order
first = [srv.connect() for _ in range(20)]
tap.ok(served(first, 0), '20 connections served')
hs = holders(srv, first, w)
tap.is_(count(hs, w[0]), 20, 'all 20 held by the first worker', diag=hs)

more = [srv.connect() for _ in range(FILL + 10 - 20)]
tap.ok(served(more, 100), '%d more served' % len(more))
conns = first + more
hs = holders(srv, conns, w)
tap.is_([count(hs, p) for p in w], [FILL, 10, 0],
        'the first worker fills up to %d, the next takes the rest' % FILL, diag=hs)

# ---- room again: the first worker takes new connections again
mine = [c for c, h in zip(conns, hs) if h == w[0]]
for c in mine[:5]:
    c.close()
conns = [c for c in conns if c not in mine[:5]]
time.sleep(0.3)
back = [srv.connect() for _ in range(3)]
tap.ok(served(back, 300), 'served after closing 5 of the first worker\'s')
hs = holders(srv, back, w)
tap.is_(hs, [w[0]] * 3, 'with room again, the first worker takes them', diag=(hs, w))
conns += back

for c in conns:
    c.close()

# ---- a dead worker's place passes on, and back to its replacement
time.sleep(0.3)
one = srv.connect()
tap.ok(served([one], 600), 'served before the kill')
tap.is_(holders(srv, [one], w), [w[0]], 'on the first worker again')
os.kill(w[0], signal.SIGKILL)
tap.ok(srv.wait_log('killed by signal 9') is not None, 'the first worker killed')
two = srv.connect()
tap.ok(served([two], 700), 'served while it is replaced')
deadline = time.monotonic() + 5
while time.monotonic() < deadline and (len(proto.children(srv.pid)) != 3 or w[0] in proto.children(srv.pid)):
    time.sleep(0.05)
now = proto.children(srv.pid)
new = [p for p in now if p not in w]
tap.is_(len(new), 1, 'and replaced', diag=(w, now))
time.sleep(0.3)
three = [srv.connect() for _ in range(3)]
tap.ok(served(three, 800), 'served after the restart')
tap.is_(holders(srv, three, now), new * 3 if new else [None] * 3,
        'the replacement takes the first place again')
for c in [one, two] + three:
    c.close()
srv.signal(signal.SIGTERM)
tap.is_(srv.wait(), 0, 'SIGTERM, exit 0')
srv.stop()

# ---- a worker at Max_Connections is passed over, though it has room by
# the board's count: otherwise nobody would accept
srv, w = start(2, 'Idle_Timeout = 120\nMax_Connections = 5\n')
cs = [srv.connect() for _ in range(8)]
tap.ok(served(cs, 900), 'Max_Connections 5, 2 workers: 8 connections served')
tap.is_(sorted(count(holders(srv, cs, w), p) for p in w), [3, 5],
        'five on the full worker, three on the other')
for c in cs:
    c.close()
srv.signal(signal.SIGTERM)
tap.is_(srv.wait(), 0, 'SIGTERM, exit 0')
srv.stop()
tap.done()
