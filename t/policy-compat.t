#!/usr/bin/python3
# policy-compat.t - the Python policyd-spf (/usr/bin/policyd-spf) and ours,
# in spawn mode, on the same configs and requests against the same DNS
# server, compared reply for reply, byte for byte.
#
# The Python server only reads /etc/resolv.conf, so the script re-runs
# itself in private network and mount namespaces (unshare -n -m) with lo
# up, a bind-mounted resolv.conf naming 127.0.0.1, and t/dnsd.py on
# 127.0.0.1:53 there.  The host's resolv.conf is never touched.
#
# The cases are t/lib/policylib.py's; each also asserts the expected reply
# lines, so a case that both servers get wrong the same way still fails.
# Intended differences (the case's `python=` reply, and `why=`) are listed
# in policyd-spf.conf(5) DIFFERENCES; for those the Python reply is
# checked against what the case says Python gives.
#
# PSPF_COMPAT_ONLY=python checks only the Python side against the
# expectations (useful while ours is not built).
import os
import re
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib'))
import testlib     # noqa: E402
import policylib   # noqa: E402

PYSERVER = '/usr/bin/policyd-spf'



class Syslog:
    """A /dev/log of our own: /dev is a tmpfs in this mount namespace,
    with the few device nodes programs need bound from the real /dev, so
    both servers' syslog lines can be read and compared."""

    def __init__(self, tmp):
        old = os.path.join(tmp, 'olddev')
        os.mkdir(old)
        for argv in (['mount', '--bind', '/dev', old], ['mount', '-t', 'tmpfs', 'tmpfs', '/dev']):
            r = testlib.run(argv)
            if r.returncode != 0:
                raise RuntimeError('%s: %s' % (' '.join(argv), r.stderr.strip()))
        for n in ('null', 'zero', 'random', 'urandom', 'tty', 'full'):
            if os.path.exists(os.path.join(old, n)):
                open('/dev/' + n, 'w').close()
                testlib.run(['mount', '--bind', os.path.join(old, n), '/dev/' + n])
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind('/dev/log')
        os.chmod('/dev/log', 0o666)   # ours drops root privileges
        # a unix datagram socket queues only a few messages
        # (net.unix.max_dgram_qlen) before senders block: read all the time
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        while True:
            d = self.sock.recv(65536)
            text = d.decode('utf-8', 'replace').rstrip('\n').rstrip('\x00')
            m = re.match(r'^<(\d+)>.*?policyd-spf\[\d+\]: (.*)$', text, re.S)
            if m:
                with self.lock:
                    self.lines.append((int(m.group(1)), m.group(2)))

    def drain(self):
        """(priority, message) of every datagram so far."""
        time.sleep(0.05)
        with self.lock:
            out, self.lines = self.lines, []
        return out


# Our own debugLevel 2 line per SPF check (DNS queries vs cache answers);
# the Python server has none, so it is compared apart.
STATS_RE = re.compile(r'^spfcheck: (helo|mailfrom) [^\n]*: [a-z]+; lookups \d+, voids \d+, '
                      r'DNS questions \d+ \(\d+ from cache\), \d+ ms$')


def split_logs(lines, stats=None):
    """Input echo lines apart from the rest: ours reads requests ahead
    (pipelining), so they interleave differently; object addresses
    normalised.  Our stats lines go to stats (a list) when given."""
    reads, rest = [], []
    for prio, msg in lines:
        msg = re.sub(r' at 0x[0-9a-f]+>', ' at 0x>', msg)
        if msg.startswith('Read line: ') or msg == 'Found the end of entry':
            reads.append((prio, msg))
        elif stats is not None and msg.startswith('spfcheck: ') and STATS_RE.match(msg):
            stats.append(msg)
        else:
            rest.append((prio, msg))
    return reads, rest


def inside():
    tap = testlib.Tap()
    if not os.access(PYSERVER, os.X_OK):
        tap.bail('%s missing (Debian postfix-policyd-spf-python)' % PYSERVER)
    tmp = tempfile.mkdtemp(prefix='pspf-compat.')
    os.chmod(tmp, 0o755)   # ours drops root privileges: Per_User files must be readable
    testlib.netns_resolver(tap, tmp)
    try:
        slog = Syslog(tmp)
    except (OSError, RuntimeError) as e:
        tap.bail('private /dev/log: %s' % e)
    only = os.environ.get('PSPF_COMPAT_ONLY', '')
    ours = None
    if only != 'python':
        try:
            ours = [testlib.binary('policyd-spf')]
        except FileNotFoundError as e:
            tap.bail(str(e))
    # Python's spawn-mode environment: what spawn(8) gives it
    pyenv = {'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8'}
    timeout_mult = 3 if os.environ.get('PSPF_ASAN') else 1
    with testlib.Dnsd(zone=policylib.ZONE, port=53) as dns:
        for case in policylib.cases():
            name = case['name']
            conf = case['conf']
            want = case['want']
            pywant = case['python'] if case['python'] is not None else want
            slog.drain()
            cpath = os.path.join(tmp, 'policyd-spf.conf')   # the same path for both: it is logged
            prc, pyrep, pyerr = policylib.run_spawn([PYSERVER], conf, case['requests'],
                                                    timeout=case['timeout'], env=pyenv, path=cpath,
                                                    files=case['files'])
            pylog = slog.drain()
            tap.is_(pyrep, pywant, 'python: %s%s' % (name, ' (differs on purpose: %s)' % case['why']
                                                      if case['why'] else ''),
                    pyerr[-600:] if pyrep != pywant else None)
            if ours is None:
                continue
            # ours reads the same resolv.conf; DNS_Servers is not needed
            orc, orep, oerr = policylib.run_spawn(ours, conf, case['requests'],
                                                  timeout=case['timeout'] * timeout_mult, path=cpath,
                                                  files=case['files'])
            olog = slog.drain()
            if case['ours_log']:
                _, orest = split_logs(olog)
                tap.is_([l for l in orest if l in case['ours_log']], list(case['ours_log']),
                        'ours logs: %s' % name, orest)
            if not case['why'] and not case.get('logs_differ'):
                stats = []
                oreads, orest = split_logs(olog, stats)
                preads, prest = split_logs(pylog)
                tap.is_(orest, prest, 'ours == python: log lines of %s' % name)
                tap.is_(oreads, preads, 'ours == python: input lines logged, %s' % name)
                # one stats line of ours for each SPF check Python reports at debugLevel >= 2
                pychecks = sum(1 for _, m in prest if m.startswith('spfcheck: pyspf result: '))
                tap.ok(len(stats) >= pychecks and (pychecks > 0 or not stats),
                       'ours: a DNS/cache stats line per SPF check: %s' % name,
                       '%d stats lines, Python reports %d checks' % (len(stats), pychecks))
            if case['why']:
                tap.is_(orep, want, 'ours: %s (intended difference)' % name, oerr[-600:])
            else:
                tap.is_(orep, pyrep, 'ours == python: %s' % name, oerr[-600:])
            tap.is_(orc, 0, 'ours exits 0: %s' % name, oerr[-600:])
    tap.done()


if __name__ == '__main__':
    if not testlib.in_private_netns():
        sys.exit(testlib.netns_reexec(__file__))
    inside()
