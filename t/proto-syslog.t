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
os.unlink(conf.name)
log.close()
tap.done()
