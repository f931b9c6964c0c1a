#!/usr/bin/python3
# The policy protocol over a unix socket: the same framing scenarios as TCP,
# concurrency, stale-socket handling, socket mode.
import os, socket, stat, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib, proto

tap = testlib.Tap()
# 300 connections must all be served before the first one idles out;
# the sanitizer build is several times slower.
IDLE = 8 if os.environ.get("PSPF_ASAN") else 3
srv = proto.Server('unix', conf='Idle_Timeout = %d\nSocket_Mode = 0660\n' % IDLE)
st = os.stat(srv.path)
tap.ok(stat.S_ISSOCK(st.st_mode), 'unix: socket created')
tap.is_(oct(st.st_mode & 0o7777), oct(0o660), 'unix: Socket_Mode applied')
proto.scenarios_one_connection(tap, srv.connect, 'unix')
proto.scenarios_daemon(tap, srv, 'unix', IDLE)

# a second server on the same path must refuse, not steal the socket
r = testlib.run([testlib.binary('policyd-spf'), '--foreground', '--listen', srv.listen,
                 srv.conf], timeout=10)
tap.is_(r.returncode, 1, 'unix: second server on a live socket exits 1')
tap.ok('another server is accepting' in r.stderr, 'unix: and says why', diag=r.stderr)
c = srv.connect()
c.send(proto.request(1))
tap.is_(c.reply(), proto.reply(1), 'unix: first server still serving')
c.close()
path, conf = srv.path, srv.conf
srv.signal(9)
srv.wait()

# stale socket left by a killed server: removed and re-bound
tap.ok(os.path.exists(path), 'unix: killed server left its socket behind')
srv2 = proto.Server('unix', conf='')
os.unlink(srv2.conf)
srv2.stop()
again = proto.Server.__new__(proto.Server)
# start a fresh server on the stale path
import subprocess, threading
p = subprocess.Popen([testlib.binary('policyd-spf'), '--foreground', '--listen', 'unix:' + path,
                      conf], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
try:
    ok = False
    for line in p.stderr:
        if b'listening on' in line:
            ok = True
            break
    tap.ok(ok, 'unix: stale socket replaced')
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    cl = proto.Client(s)
    cl.send(proto.request(2))
    tap.is_(cl.reply(), proto.reply(2), 'unix: new server answers on the old path')
    cl.close()
finally:
    p.terminate()
    p.wait(10)
tap.is_(p.returncode, 0, 'unix: SIGTERM exit status 0')
srv.stop()
tap.done()
