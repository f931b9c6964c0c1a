# dnscheck.py - running t/tools/dnsq and checking what it prints, shared by
# t/dns.t (lib/dns through c-ares) and t/dns-direct.t (lib/dnsdirect), which
# ask the same questions of lib/dns along two transports.
#
#   dq = dnscheck.Dnsq(tap)
#   with testlib.Dnsd(zone=ZONE) as dns:
#       r = dq.run(dns.server, 'TXT:example.com', opts=['-c', '100000'])
#       dq.check(r, 0, 'TXT: OK', status='OK', n=1)
#   dq.all_runs_clean()     # one test: no dnsq run failed or wrote to stderr
#
# ScriptServer runs a few lines of dnslib as a DNS server for what t/dnsd.py
# deliberately does not imitate (servers without EDNS0, hostile answers).

import os
import re
import socket
import subprocess
import tempfile
import time

import testlib

# "#IDX TYPE NAME status=S ttl=T cache=C canon=NAME n=N"; names and canon
# may hold spaces (dnsdirect's odd names), so the fixed keys anchor the parse.
ANSWER_RE = re.compile(r'#(\d+) (\S+) (.*) status=(\S+) ttl=(\S+) cache=(\S+) canon=(.*) n=(\d+)$')
RECORD_RE = re.compile(r'#(\d+)   (.*)$')


class Dnsq:
    """t/tools/dnsq runs, remembering every run that failed or wrote to
    stderr so that one test at the end can say so (sanitizer reports land
    on stderr)."""

    def __init__(self, tap):
        self.tap = tap
        self.bin = testlib.binary('tools/dnsq')
        self.bad_runs = []

    def run(self, servers, *args, timeout=30, opts=()):
        """dnsq against servers ("ADDR:PORT" or a list of them, in order)
        with one 1 s try unless opts say otherwise.  The result has
        .answers {idx: {status, ttl, cache, canon, n}}, .records {idx:
        [record lines]}, .stats {name: int} and .elapsed (seconds)."""
        if isinstance(servers, str):
            servers = [servers]
        argv = [self.bin]
        for s in servers:
            argv += ['-s', s]
        argv += ['-t', '1000', '-r', '1'] + list(opts) + list(args)
        t0 = time.monotonic()
        r = testlib.run(argv, timeout=timeout)
        r.elapsed = time.monotonic() - t0
        if r.returncode != 0 or r.stderr:
            self.bad_runs.append('%s\nrc=%s\n%s' % (' '.join(argv), r.returncode, r.stderr))
        r.answers = {}
        r.records = {}
        r.stats = {}
        for line in (r.stdout or '').splitlines():
            m = ANSWER_RE.match(line)
            if m:
                r.answers[int(m.group(1))] = dict(zip(('status', 'ttl', 'cache', 'canon', 'n'),
                                                      m.groups()[3:]))
                r.records[int(m.group(1))] = []
                continue
            m = RECORD_RE.match(line)
            if m:
                r.records[int(m.group(1))].append(m.group(2))
                continue
            if line.startswith('stats '):
                r.stats = {k: int(v) for k, v in (kv.split('=') for kv in line.split()[1:])}
        return r

    def check(self, r, idx, name, **want):
        """One test: answer #idx has the wanted fields (values compared as text)."""
        a = r.answers.get(idx)
        if a is None:
            return self.tap.ok(False, name, 'no answer #%d\nstdout: %s\nstderr: %s'
                               % (idx, r.stdout, r.stderr))
        got = {k: a.get(k) for k in want}
        return self.tap.is_(got, {k: str(v) for k, v in want.items()}, name)

    def check_tc(self, r, idx, dns, name, qtype, record, what):
        """Three tests: a name whose UDP answers are truncated (dnsd
        TRUNCATE) answered with its record, asked once over UDP and once
        over TCP."""
        self.check(r, idx, what, status='OK', n=1)
        self.tap.is_(r.records.get(idx), [record], 'TC -> TCP: the record')
        self.tap.is_([l.split(' ')[0] for l in queries(dns, name, qtype)], ['udp', 'tcp'],
                     'TC -> TCP: one UDP query, then one TCP query', dns.queries())

    def check_timeout(self, dns, silent, other, elapsed_name, low=0.0):
        """Four tests: A of silent (dnsd TIMEOUT) with 2 tries of 300 ms
        times out without holding up A of other, within low..5 s
        (elapsed_name % seconds names that test), and is sent twice."""
        r = self.run(dns.server, 'A:' + silent, 'A:' + other, opts=['-t', '300', '-r', '2'])
        self.check(r, 0, 'no answer: TIMEOUT', status='TIMEOUT', ttl=0, n=0)
        self.check(r, 1, 'a timeout does not hold up other lookups', status='OK')
        self.tap.ok(low < r.elapsed < 5, elapsed_name % r.elapsed)
        self.tap.is_(len(queries(dns, silent, 'A')), 2, 'TIMEOUT: tries=2 sends twice')

    def all_runs_clean(self):
        self.tap.is_(self.bad_runs, [],
                     'every dnsq run exited 0 with nothing on stderr (sanitizers included)')


def queries(dns, name, qtype):
    """The query log lines of a testlib.Dnsd for name and qtype, exactly as
    asked (case kept).  dnsd logs names as latin-1, so name is compared in
    that form; lines are "udp|tcp NAME TYPE ..." and NAME may hold spaces."""
    wire = name.encode('utf-8').decode('latin-1')
    return [l for l in dns.queries()
            if any(l.startswith('%s %s %s ' % (p, wire, qtype)) for p in ('udp', 'tcp'))]


def have_ipv6():
    """Whether ::1 can be bound here (some containers have no IPv6 loopback)."""
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(('::1', 0))
        s.close()
        return True
    except OSError:
        return False


# The loop of a ScriptServer, run after the script's own code.
_SERVE = r"""
import socket as _socket
import sys as _sys
from dnslib import DNSRecord as _DNSRecord, QTYPE as _QTYPE
_s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
_s.bind(('127.0.0.1', 0))
print('ready %d' % _s.getsockname()[1], flush=True)
_log = open(_sys.argv[1], 'a', buffering=1)
while True:
    _data, _peer = _s.recvfrom(4096)
    _q = _DNSRecord.parse(_data)
    _out = answer(_q, _data, any(r.rtype == _QTYPE.OPT for r in _q.ar), _log)
    if _out is not None:
        _s.sendto(_out, _peer)
"""


class ScriptServer:
    """A few lines of dnslib as a UDP DNS server on a free loopback port,
    for what t/dnsd.py does not imitate.  code defines
    answer(q, data, edns, log): q the parsed query (dnslib DNSRecord), data
    its bytes, edns whether it has an OPT record, log a file for one line
    per query (.queries() reads it back); it returns the reply's bytes, or
    None to stay silent.  .server is "127.0.0.1:PORT", or None when the
    server did not say ready (.ready_line has what it said instead).
    Stopped by stop(), at the end of a with block, or at exit."""

    def __init__(self, code):
        self.tmp = tempfile.NamedTemporaryFile(prefix='scriptdns.', suffix='.log', delete=False)
        self.tmp.close()
        self.proc = subprocess.Popen([testlib.PYTHON, '-c', code + _SERVE, self.tmp.name],
                                     stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        testlib._live.append(self)
        self.ready_line = self.proc.stdout.readline().decode()
        self.server = None
        if self.ready_line.startswith('ready '):
            self.server = '127.0.0.1:%d' % int(self.ready_line.split()[1])

    def queries(self):
        with open(self.tmp.name) as f:
            return [l.strip() for l in f]

    def stop(self):
        if self in testlib._live:
            testlib._live.remove(self)
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        self.proc.stdout.close()
        if os.path.exists(self.tmp.name):
            os.unlink(self.tmp.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
