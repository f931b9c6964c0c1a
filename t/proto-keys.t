#!/usr/bin/python3
# The daemon's settings from the config file instead of the command line:
# Listen (two endpoints), Log_Destination = stderr, Workers, DNS_Servers;
# and the command line winning over them.
import os, signal, socket, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib, proto

tap = testlib.Tap()
tmp = tempfile.mkdtemp(prefix='pspf-keys.')
os.chmod(tmp, 0o755)
conf = os.path.join(tmp, 'policyd-spf.conf')
sock = os.path.join(tmp, 'p.sock')


class Proc:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.lines = []
        threading.Thread(target=self.read, daemon=True).start()
        testlib._live.append(self)

    def read(self):
        for l in self.p.stderr:
            self.lines.append(l.decode('utf-8', 'replace'))

    def wait_for(self, needle, t=10):
        end = time.monotonic() + t
        while time.monotonic() < end:
            if any(needle in l for l in self.lines):
                return True
            if self.p.poll() is not None:
                time.sleep(0.1)
                return any(needle in l for l in self.lines)
            time.sleep(0.05)
        return False

    def stop(self):
        if self in testlib._live:
            testlib._live.remove(self)
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


zone = {'example.com': [{'TXT': 'v=spf1 ip4:192.0.2.0/24 -all'}],
        'mx.example.com': [{'TXT': 'v=spf1 ip4:192.0.2.0/24 -all'}]}
with testlib.Dnsd(zone=zone) as dns:
    port = proto.free_port()
    with open(conf, 'w') as f:
        f.write('Listen = inet:127.0.0.1:%d, unix:%s\nLog_Destination = stderr\nWorkers = 2\n'
                'DNS_Servers = %s\n' % (port, sock, dns.server))
    os.chmod(conf, 0o644)
    d = Proc([testlib.binary('policyd-spf'), conf])
    tap.ok(d.wait_for('2 worker processes started'),
           'Listen, Log_Destination = stderr, Workers from the file', diag=''.join(d.lines))
    c = proto.Client(socket.create_connection(('127.0.0.1', port), timeout=10))
    c.send(proto.request(1))
    tap.is_(c.reply(), proto.reply(1), 'served on the TCP endpoint of Listen')
    c.close()
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.connect(sock)
    c = proto.Client(u)
    req = proto.request(2, client='192.0.2.9').replace(
        b'helo_name=h2.example.org', b'helo_name=mx.example.com').replace(
        b'sender=Alice2@Example.ORG', b'sender=bob@example.com')
    c.send(req)
    tap.is_(c.reply(), b'action=prepend Received-SPF: Pass (mailfrom) identity=mailfrom; '
            b'client-ip=192.0.2.9; helo=mx.example.com; envelope-from=bob@example.com; '
            b'receiver=example.net \n\n', 'served on the unix endpoint, DNS from DNS_Servers')
    c.close()
    tap.is_(d.stop(), 0, 'SIGTERM: exit 0')

    # the command line wins: --listen replaces Listen, --workers replaces Workers
    port2 = proto.free_port()
    d = Proc([testlib.binary('policyd-spf'), '--listen', 'inet:127.0.0.1:%d' % port2,
              '--workers', '1', conf])
    tap.ok(d.wait_for('listening on inet:127.0.0.1:%d as' % port2) and
           d.wait_for('1 worker'), '--listen and --workers win over the file',
           diag=''.join(d.lines))
    try:
        socket.create_connection(('127.0.0.1', port), timeout=2).close()
        other = True
    except OSError:
        other = False
    tap.ok(not other, 'the file\'s Listen endpoint is not opened')
    tap.is_(d.stop(), 0, 'SIGTERM: exit 0')
os.unlink(conf)
for n in os.listdir(tmp):
    os.unlink(os.path.join(tmp, n))
os.rmdir(tmp)
tap.done()
