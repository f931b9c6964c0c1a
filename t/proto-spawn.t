#!/usr/bin/python3
# Spawn mode, as Postfix's spawn(8) runs it: no listen setting, the one
# connection on fds 0/1/2 (a socketpair), or on a pipe pair; exit 0 at EOF;
# nothing but replies on the socket.
import os, signal, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib, proto

tap = testlib.Tap()
procs = {}


def opener(pipe):
    def open_client():
        sp = proto.Spawn(pipe=pipe)
        procs[id(sp.client)] = sp
        return sp.client
    return open_client


def closer(c):
    sp = procs.pop(id(c))
    try:
        c.shutdown_write()
    except OSError:
        pass
    rc = sp.wait()
    sp.stop()
    tap.is_(rc, 0, '    exit status 0 at EOF')


for pipe, label in ((False, 'spawn-socket'), (True, 'spawn-pipe')):
    proto.scenarios_one_connection(tap, opener(pipe), label, closes_process=closer)

# nothing but replies on the socket, even with logging turned up
sp = proto.Spawn(conf='debugLevel = 5\n')
sp.client.send(proto.request(1) + b'garbage\n\n')
tap.is_(sp.client.reply(), proto.reply(1), 'spawn: reply with debugLevel 5')
tap.is_(sp.client.reply(), proto.DUNNO, 'spawn: second reply')
sp.client.shutdown_write()
tap.ok(sp.client.eof(), 'spawn: EOF after the replies, nothing else written')
tap.is_(sp.wait(), 0, 'spawn: exit 0')
sp.stop()

# SIGTERM while idle: exit 0
sp = proto.Spawn()
sp.client.send(proto.request(2))
tap.is_(sp.client.reply(), proto.reply(2), 'spawn: served before SIGTERM')
sp.proc.send_signal(signal.SIGTERM)
tap.is_(sp.wait(), 0, 'spawn: SIGTERM exit 0')
sp.stop()

# --foreground is refused in spawn mode: stderr is the policy socket
sp = proto.Spawn(pipe=True, args=['--foreground'])
tap.is_(sp.wait(), 1, 'spawn: --foreground without --listen exits 1')
sp.stop()
tap.done()
