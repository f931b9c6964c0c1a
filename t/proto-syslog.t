#!/usr/bin/python3
# Logging through syslog(3): ident policyd-spf (argv[0]'s base name),
# LOG_PID, facility mail, the Python server's message formats, one line per
# message.  The test re-runs itself in a private mount namespace where a
# tmpfs over /dev holds its own /dev/log socket (null/zero/urandom bound
# from the real /dev), so the host's syslog is never involved.
import os, re, socket, subprocess, sys, tempfile, time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib'))
import testlib

if os.environ.get('PSPF_IN_LOGNS') != '1':
    tap = testlib.Tap()
    if os.geteuid() != 0:
        if os.environ.get('CI') == 'true':
            tap.ok(False, 'syslog test needs root for its mount namespace (CI=true)')
            tap.done()
        print('1..0 # SKIP syslog test needs root for a private mount namespace')
        sys.exit(0)
    old = tempfile.mkdtemp(prefix='pspf-olddev.')
    script = ('set -e; mount --make-rprivate /; mount --bind /dev "$OLD"; '
              'mount -t tmpfs -o mode=0755 tmpfs /dev; '
              'for n in null zero urandom random; do touch /dev/$n; '
              'mount --bind "$OLD/$n" /dev/$n; done; '
              'exec "$PY" "$SELF"')
    env = dict(os.environ, PSPF_IN_LOGNS='1', OLD=old, PY=testlib.PYTHON,
               SELF=os.path.abspath(__file__))
    r = subprocess.run(['unshare', '-m', '--', 'sh', '-c', script], env=env)
    os.rmdir(old)
    sys.exit(r.returncode)

tap = testlib.Tap()
log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
log.bind('/dev/log')
os.chmod('/dev/log', 0o666)
log.settimeout(0.2)

conf = tempfile.NamedTemporaryFile('w', suffix='.conf', delete=False)
conf.write('debugLevel = 1\n')
conf.close()
os.chmod(conf.name, 0o644)
data = (b'garbage\x01line\n'
        b'client_address=127.0.0.1\nhelo_name=mx.example.org\nsender=a@example.org\n'
        b'recipient=b@example.net\ninstance=1\nqueue_id=4XyZ1B2C3D\n\n')
p = subprocess.run([testlib.binary('policyd-spf'), conf.name], input=data,
                   capture_output=True, timeout=30)
tap.is_(p.returncode, 0, 'spawn run exits 0')
msgs = []
deadline = time.monotonic() + 2
while time.monotonic() < deadline:
    try:
        msgs.append(log.recv(65536).decode('utf-8', 'replace'))
    except socket.timeout:
        if msgs:
            break
rx = re.compile(r'^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d policyd-spf\[(\d+)\]: (.*)$', re.S)
parsed = [rx.match(m) for m in msgs]
tap.ok(msgs and all(parsed), 'every datagram: <prio>timestamp policyd-spf[PID]: message',
       diag=msgs)
parsed = [m for m in parsed if m]
tap.ok(all('\n' not in m.group(3) for m in parsed), 'every message is one line')
texts = {m.group(3): int(m.group(1)) for m in parsed}
tap.is_(texts.get('ERROR: Could not match line "garbage#001line"'), 22,
        'garbage line: mail.info, Python wording, control byte escaped', diag=texts)
want = ('4XyZ1B2C3D: prepend X-Comment: SPF check N/A for local connections - '
        'client-ip=127.0.0.1; helo=mx.example.org; envelope-from=a@example.org; '
        'receiver=example.net ')
tap.is_(texts.get(want), 22, 'decision line with the queue-ID prefix, mail.info', diag=texts)
tap.ok(all(int(m.group(2)) > 1 for m in parsed), 'LOG_PID: the pid is in every message')

# ---- daemon mode: lines are batched per loop iteration, still one datagram
# per message; a restarted syslogd (new /dev/log) is reconnected to; with no
# /dev/log at all the server goes on serving and finds it again later.
import proto, threading


def collect(sock, seconds, until=None):
    """Datagrams for up to `seconds`, or until one contains `until`."""
    out = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            d = sock.recv(65536).decode('utf-8', 'replace')
        except socket.timeout:
            continue
        out.append(d)
        if until is not None and until in d:
            break
    return out


SLOW = 3 if os.environ.get('PSPF_ASAN') else 1
port = proto.free_port()
d = subprocess.Popen([testlib.binary('policyd-spf'), '--listen', 'inet:127.0.0.1:%d' % port,
                      conf.name], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE)
try:
    start = collect(log, 10 * SLOW, until='worker')
    tap.ok(any('listening on inet:127.0.0.1:%d' % port in m for m in start),
           'daemon: start-up lines through syslog', diag=start)
    time.sleep(0.3 * SLOW)      # the workers' loops are up

    N, C = 40, 8
    replies = {}

    def client(j):
        c = proto.Client(socket.create_connection(('127.0.0.1', port), timeout=10))
        for k in range(j, N, C):
            c.send(proto.request(k))
            replies[k] = c.reply()
        c.close()

    # read all the time: a unix datagram socket queues only a few messages
    # (net.unix.max_dgram_qlen) before senders block, as with syslog(3)
    got = []
    reader = threading.Thread(target=lambda: got.extend(collect(log, 8 * SLOW)))
    reader.start()
    ts = [threading.Thread(target=client, args=(j,)) for j in range(C)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    reader.join()
    tap.ok(all(replies.get(k) == proto.reply(k) for k in range(N)),
           'daemon: %d requests on %d connections answered' % (N, C),
           diag=[(k, replies.get(k), proto.reply(k)) for k in range(N) if replies.get(k) != proto.reply(k)][:3])
    parsed = [rx.match(m) for m in got]
    decisions = sorted(int(h) for m in parsed if m and 'SPF check N/A for local' in m.group(3)
                       for h in re.findall(r'helo=h(\d+)\.example\.org', m.group(3)))
    want = list(range(N))
    tap.ok(all(parsed) and all(int(m.group(1)) == 22 for m in parsed),
           'daemon: every datagram one message, <22>timestamp policyd-spf[PID]:', diag=got[:5])
    tap.is_(decisions, want, 'daemon: one line per request, none lost or merged')

    # syslogd restarted: the old socket is gone, a new one bound at the same path
    log.close()
    os.unlink('/dev/log')
    log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    log.bind('/dev/log')
    os.chmod('/dev/log', 0o666)
    log.settimeout(0.2)
    c = proto.Client(socket.create_connection(('127.0.0.1', port), timeout=10))
    c.send(proto.request(100))
    tap.is_(c.reply(), proto.reply(100), 'syslogd restarted: request answered')
    got = collect(log, 5 * SLOW, until='helo=h100.example.org')
    tap.ok(any('helo=h100.example.org' in m for m in got),
           'syslogd restarted: the next line reaches the new /dev/log', diag=got)

    # no /dev/log: serving goes on
    log.close()
    os.unlink('/dev/log')
    c.send(proto.request(101))
    tap.is_(c.reply(), proto.reply(101), 'no /dev/log: request still answered')
    c.send(proto.request(102))
    tap.is_(c.reply(), proto.reply(102), 'no /dev/log: and the next one')
    log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    log.bind('/dev/log')
    os.chmod('/dev/log', 0o666)
    log.settimeout(0.2)
    time.sleep(1.2)             # reconnecting is tried at most once a second
    c.send(proto.request(103))
    tap.is_(c.reply(), proto.reply(103), '/dev/log back: request answered')
    got = collect(log, 5 * SLOW, until='helo=h103.example.org')
    tap.ok(any('helo=h103.example.org' in m for m in got),
           '/dev/log back: lines reach it again', diag=got)
    c.close()
finally:
    d.terminate()
    try:
        d.wait(20)
    except subprocess.TimeoutExpired:
        d.kill()
        d.wait()
tap.is_(d.returncode, 0, 'daemon: SIGTERM, exit 0')

os.unlink(conf.name)
log.close()
tap.done()
