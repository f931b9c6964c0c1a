# testlib.py - shared helpers of the Python test scripts: TAP output,
# starting and stopping t/dnsd.py on a free loopback port, and finding the
# binaries under $PSPF_BUILD.
#
#   import os, sys
#   sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
#   import testlib
#   tap = testlib.Tap()
#   with testlib.Dnsd(zone={'example.com': [{'TXT': 'v=spf1 -all'}]}) as dns:
#       r = testlib.run([testlib.binary('policyd-spf'), 'check', ...,
#                        '--dns-server', dns.server])
#       tap.is_(r.stdout.splitlines()[0], 'fail', 'fail for -all')
#   tap.done()          # prints the plan and exits 0 / 1
#
# Every process started through this module is stopped when the Dnsd
# object is closed, when the script exits, and on SIGTERM/SIGINT; dnsd
# also exits by itself when its stdin (a pipe from us) closes, so not even
# a SIGKILLed test leaves a server behind.

import atexit
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DNSD = os.path.join(TOP, 't', 'dnsd.py')
PYTHON = '/usr/bin/python3'


class Tap:
    """Minimal TAP producer; plan printed at the end unless given first."""

    def __init__(self, plan=None):
        self.n = 0
        self.failed = 0
        self.failed_names = []
        self.planned = plan
        if plan is not None:
            print('1..%d' % plan, flush=True)

    def ok(self, cond, name='', diag=None):
        self.n += 1
        name = str(name).replace('#', '\\#').replace('\n', ' ')
        if cond:
            print('ok %d - %s' % (self.n, name), flush=True)
        else:
            self.failed += 1
            self.failed_names.append(name)
            print('not ok %d - %s' % (self.n, name), flush=True)
            if diag:
                self.diag(diag)
        return bool(cond)

    def is_(self, got, want, name='', diag=None):
        if got == want:
            return self.ok(True, name)
        extra = 'got:  %r\nwant: %r' % (got, want)
        if diag:
            extra += '\n' + str(diag)
        return self.ok(False, name, extra)

    def diag(self, text):
        for line in str(text).splitlines() or ['']:
            sys.stdout.write('# %s\n' % line)
        sys.stdout.flush()

    def note(self, text):
        self.diag(text)

    def bail(self, why):
        print('Bail out! %s' % str(why).replace('\n', ' '), flush=True)
        cleanup_all()
        sys.exit(255)

    def done(self):
        if self.planned is None:
            print('1..%d' % self.n, flush=True)
        elif self.planned != self.n:
            self.diag('planned %d tests but ran %d' % (self.planned, self.n))
            self.failed += 1
        cleanup_all()
        sys.exit(1 if self.failed else 0)


def build_dir():
    b = os.environ.get('PSPF_BUILD', 'build')
    if not os.path.isabs(b):
        b = os.path.join(TOP, b)
    return b


def binary(name):
    """Path of a built program under $PSPF_BUILD (e.g. 'policyd-spf',
    'tools/spf2check'). Missing binaries are a failure, never a skip."""
    p = os.path.join(build_dir(), name)
    if not os.access(p, os.X_OK):
        raise FileNotFoundError('%s not built (run make)' % p)
    return p


def run(argv, timeout=30, input=None, env=None):
    """Run a program, capturing output as text (bytes kept undecodable
    bytes as surrogate escapes). Returns CompletedProcess; a timeout gives
    returncode None and whatever output arrived."""
    try:
        return subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                              env=env, text=True, errors='surrogateescape')
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode('utf-8', 'surrogateescape') if isinstance(e.stdout, bytes) else (e.stdout or '')
        err = e.stderr.decode('utf-8', 'surrogateescape') if isinstance(e.stderr, bytes) else (e.stderr or '')
        return subprocess.CompletedProcess(argv, None, out, err + '\n[timed out after %ss]' % timeout)


# ------------------------------------------------------------- cleanup

_live = []


def in_private_netns():
    """True inside the namespaces netns_reexec() made."""
    return os.environ.get('PSPF_IN_NETNS') == '1'


def netns_reexec(script):
    """Re-run script in private network and mount namespaces (unshare -n -m,
    -r when not root); returns the child's exit status.  Tests that need the
    system resolver (the Python server, libspf2) pointed at t/dnsd.py use
    this, so the host's /etc/resolv.conf is never touched."""
    argv = ['unshare', '-n', '-m']
    if os.geteuid() != 0:
        argv.append('-r')
    argv += ['--', PYTHON, os.path.abspath(script)]
    env = dict(os.environ, PSPF_IN_NETNS='1')
    try:
        r = subprocess.run(argv, env=env)
    except OSError as e:
        print('1..1\nnot ok 1 - cannot run unshare: %s' % e, flush=True)
        return 1
    if r.returncode < 0:
        print('# namespace child died of signal %d' % -r.returncode, flush=True)
        return 1
    return r.returncode


def netns_resolver(tap, tmp, resolv='nameserver 127.0.0.1\n'):
    """Inside the namespaces: bring lo up and bind-mount a resolv.conf
    with the given text over /etc/resolv.conf.  Bails out on failure."""
    r = run(['ip', 'link', 'set', 'lo', 'up'])
    if r.returncode != 0:
        tap.bail('ip link set lo up: %s' % r.stderr.strip())
    rc = os.path.join(tmp, 'resolv.conf')
    with open(rc, 'w') as f:
        f.write(resolv)
    r = run(['mount', '--bind', rc, '/etc/resolv.conf'])
    if r.returncode != 0:
        tap.bail('mount --bind resolv.conf: %s' % r.stderr.strip())


def cleanup_all():
    for obj in list(_live):
        try:
            obj.stop()
        except Exception:
            pass


def _on_signal(signum, _frame):
    cleanup_all()
    sys.exit(128 + signum)


atexit.register(cleanup_all)
for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        signal.signal(_s, _on_signal)
    except (ValueError, OSError):
        pass


class Dnsd:
    """t/dnsd.py as a child process on a free port.

    zone: a dict in zonedata shape (written to a temporary YAML file), or a
    path; suite + scenario: serve a scenario of an RFC suite file.
    Attributes: port, server ('127.0.0.1:PORT'), log (path of the query
    log), proc; ports lists every port with scenario='all'.  Use as a context manager or call stop()."""

    def __init__(self, zone=None, suite=None, scenario=None, delay_ms=0,
                 spf_to_txt=None, args=(), port=0, addr='127.0.0.1',
                 cmd_prefix=(), start_timeout=10):
        self.tmp = tempfile.mkdtemp(prefix='dnsd.')
        self.log = os.path.join(self.tmp, 'query.log')
        argv = list(cmd_prefix) + [PYTHON, DNSD, '--port', str(port), '--addr', addr,
                                   '--log', self.log, '--exit-on-stdin-eof']
        if isinstance(zone, dict):
            zf = os.path.join(self.tmp, 'zone.yml')
            with open(zf, 'w', encoding='utf-8') as f:
                yaml.safe_dump(zone, f, allow_unicode=True)
            argv += ['--zone', zf]
        elif zone:
            argv += ['--zone', zone]
        if suite:
            argv += ['--suite', suite, '--scenario', str(scenario)]
        if delay_ms:
            argv += ['--delay-ms', str(delay_ms)]
        if spf_to_txt is True:
            argv.append('--spf-to-txt')
        elif spf_to_txt is False:
            argv.append('--no-spf-to-txt')
        argv += list(args)
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        _live.append(self)
        self.ports = self._wait_ready(start_timeout)
        self.port = self.ports[0]
        self.addr = addr
        self.server = '%s:%d' % (addr, self.port)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b''
        fd = self.proc.stdout.fileno()
        while b'\n' not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise RuntimeError('dnsd did not become ready: %s' % ' '.join(self.argv))
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 256)
                if not chunk:
                    err = self.proc.stderr.read().decode('utf-8', 'replace')
                    self.stop()
                    raise RuntimeError('dnsd exited: %s' % err.strip())
                buf += chunk
        line = buf.split(b'\n', 1)[0].decode()
        if not line.startswith('ready '):
            self.stop()
            raise RuntimeError('dnsd said %r' % line)
        return [int(x) for x in line.split()[1:]]

    def queries(self):
        """Lines of the query log so far."""
        try:
            with open(self.log, encoding='utf-8', errors='replace') as f:
                return [l.rstrip('\n') for l in f if not l.startswith('listening ')]
        except OSError:
            return []

    def stop(self):
        if self in _live:
            _live.remove(self)
        p = self.proc
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in (p.stdin, p.stdout, p.stderr):
            try:
                f.close()
            except Exception:
                pass
        try:
            for n in os.listdir(self.tmp):
                os.unlink(os.path.join(self.tmp, n))
            os.rmdir(self.tmp)
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
