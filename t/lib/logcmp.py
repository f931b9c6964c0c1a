# logcmp.py - the syslog lines of the Python policyd-spf and ours, read and
# made comparable, for the differential tests (t/policy-compat.t and
# t/lib/randcompat.py behind t/policy-random.t): a private /dev/log that
# strips what differs per run (time, host, pid) and keeps the lines per
# sender, and the rules for what only ours logs or logs differently.
#
# Syslog needs a private mount namespace (testlib.netns_reexec): it makes
# /dev a tmpfs there, so the host's /dev/log is never touched.

import os
import re
import socket
import threading
import time

import testlib

# Our own debugLevel 2 line per SPF check (DNS queries vs cache answers,
# lib/policy.c); the Python server has none.
STATS = (r'spfcheck: (helo|mailfrom) [^\n]*: [a-z]+; lookups \d+, voids \d+, '
         r'DNS questions \d+ \(\d+ from cache\), \d+ ms$')
STATS_RE = re.compile('^' + STATS)

# Log lines only ours writes, for outcomes DIFFERENCES documents.
OUR_ONLY_LOG = re.compile(r'a private address|is not an IP address: no SPF check|Reason_Message cannot be formatted'
                          r'|Request_Timeout|whitelist lookups for one request|out of memory'
                          r'|Header_Type includes both SPF and AR|Authserv_Id not set'
                          r'|^' + STATS)


class Syslog:
    """A /dev/log of our own: /dev becomes a tmpfs in this mount namespace,
    with the few device nodes programs need bound from the real /dev.
    Each datagram from a policyd-spf is kept as (priority, message), the
    syslog header (time, tag, pid) stripped, filed under the sender's pid
    so that servers running in parallel can be told apart."""

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
        # pid -> [(arrival number, priority, message)]; the arrival number
        # keeps the order across senders for drain()
        self.lines = {}
        self.seq = 0
        self.lock = threading.Lock()
        # a unix datagram socket queues only a few messages
        # (net.unix.max_dgram_qlen) before senders block: read all the time
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        while True:
            d = self.sock.recv(65536)
            text = d.decode('utf-8', 'replace').rstrip('\n').rstrip('\x00')
            m = re.match(r'^<(\d+)>.*?policyd-spf\[(\d+)\]: (.*)$', text, re.S)
            if m:
                with self.lock:
                    self.seq += 1
                    self.lines.setdefault(int(m.group(2)), []).append(
                        (self.seq, int(m.group(1)), m.group(3)))

    def drain(self):
        """(priority, message) of every datagram so far, from any sender,
        in arrival order."""
        time.sleep(0.05)
        with self.lock:
            got, self.lines = self.lines, {}
        return [(prio, msg) for _, prio, msg in sorted(l for ls in got.values() for l in ls)]

    def take(self, pid):
        """(priority, message) of the lines of a process that has exited:
        waits until no more arrive."""
        n, stable, deadline = -1, 0, time.monotonic() + 2
        while stable < 3 and time.monotonic() < deadline:
            time.sleep(0.03)
            with self.lock:
                m = len(self.lines.get(pid, []))
            stable = stable + 1 if m == n else 0
            n = m
        with self.lock:
            return [(prio, msg) for _, prio, msg in self.lines.pop(pid, [])]


def private_syslog(tap, tmp):
    """A Syslog (its mount points under tmp), or a TAP bail-out saying
    why there is none."""
    try:
        return Syslog(tmp)
    except (OSError, RuntimeError) as e:
        tap.bail('private /dev/log: %s' % e)


def object_addresses(msg):
    """Python's repr of an object carries its address (the Config: line
    shows IntHosts as <spf_engine.config.HostsDataset object at 0x7f...>);
    ours writes 0x0 there.  Both become ' at 0x>'."""
    return re.sub(r' at 0x[0-9a-f]+>', ' at 0x>', msg)


def split_logs(lines, stats=None):
    """Input echo lines apart from the rest: ours reads requests ahead
    (pipelining), so they interleave differently; object addresses
    normalised.  Our stats lines go to stats (a list) when given."""
    reads, rest = [], []
    for prio, msg in lines:
        msg = object_addresses(msg)
        if msg.startswith('Read line: ') or msg == 'Found the end of entry':
            reads.append((prio, msg))
        elif stats is not None and msg.startswith('spfcheck: ') and STATS_RE.match(msg):
            stats.append(msg)
        else:
            rest.append((prio, msg))
    return reads, rest
