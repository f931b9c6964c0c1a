#!/usr/bin/python3
"""The benchmark matrix, run inside a private network/mount/pid namespace
(t/bench/run.sh puts it there): Knot DNS on 127.0.0.1:53 serving the
generated corpus, dnsdelay on 127.0.0.2:53 holding each query N ms, and
/etc/resolv.conf bind-mounted to name one of them, so the Python server
(which reads only resolv.conf) and ours (DNS_Servers) ask the same server.

For each server (the do-nothing null server, the Python policyd-spf run
one process per connection by socat as Postfix's spawn does, and our
policyd-spf daemon), it first replays the corpus and requires every answer
to be right, then runs the matrix: DNS +0/+20 ms x connections.  Each cell
starts a fresh server (cold caches), runs build/bench/loadgen against it,
and reads Knot's query counters before and after.  Results go to
OUT/results.json and OUT/results.md.

Every process started here is in its own session and is stopped on the
way out, on failure and on Ctrl-C; as the namespace's pid 1 this script
also takes the namespace's remaining processes down with it when it exits.
"""

import argparse
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, '/usr/lib/python3/dist-packages')

PY_CONF = '/etc/postfix-policyd-spf-python/policyd-spf.conf'
PORTS = {'null': 10030, 'python': 10031, 'policyd-spf': 10032}
LABEL = {'null': 'null server', 'python': 'Python policyd-spf',
         'policyd-spf': 'policyd-spf (C)'}


class Bench:
    def __init__(self, a):
        self.a = a
        self.tmp = a.tmp
        self.procs = []
        self.results = []
        self.validation = {}
        self.notes = []
        self.logf = open(os.path.join(a.out, 'bench.log'), 'a')
        self.resolv = os.path.join(self.tmp, 'resolv.conf')

    # --- processes ---------------------------------------------------------
    def log(self, msg):
        line = '%s %s' % (time.strftime('%H:%M:%S'), msg)
        print(line, flush=True)
        self.logf.write(line + '\n')
        self.logf.flush()

    def start(self, name, argv, stdout=None):
        logpath = os.path.join(self.tmp, name + '.log')
        lf = open(logpath, 'ab')
        p = subprocess.Popen(argv, stdout=stdout or lf, stderr=lf,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        p.name = name
        p.logpath = logpath
        self.procs.append(p)
        return p

    def stop(self, p, grace=3.0):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        # the session may outlive its leader (forked children)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(reversed(self.procs)):
            self.stop(p, 1.0)

    # --- environment ---------------------------------------------------------
    def set_resolver(self, delay):
        # rewrite in place: the bind mount follows the inode
        with open(self.resolv, 'w') as f:
            f.write('nameserver %s\n' % ('127.0.0.1' if delay == 0 else '127.0.0.2'))

    def setup_namespace(self):
        if os.getpid() != 1:
            sys.exit('bench.py must run as pid 1 of its own namespace (use t/bench/run.sh)')
        subprocess.check_call(['ip', 'link', 'set', 'lo', 'up'])
        # ephemeral ports stay above the servers' ports (53, 10030-10032):
        # 10,000 client connections would otherwise take a server's port
        for k, v in [('net/ipv4/ip_local_port_range', '16384 65000'),
                     ('net/ipv4/tcp_tw_reuse', '1'),
                     ('net/core/somaxconn', '8192'),
                     ('net/ipv4/tcp_max_syn_backlog', '8192')]:
            with open('/proc/sys/' + k, 'w') as f:
                f.write(v)
        # 10,000 connections need 10,000 descriptors on each side; the hard
        # limit is what we may use (raising it needs CAP_SYS_RESOURCE)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 1 << 18
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.set_resolver(0)
        subprocess.check_call(['mount', '--bind', self.resolv, '/etc/resolv.conf'])
        with open('/etc/resolv.conf') as f:
            if '127.0.0.1' not in f.read():
                sys.exit('bench: resolv.conf bind mount did not take')

    def start_knot(self):
        d = os.path.join(self.tmp, 'knot')
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, 'knot.conf')
        with open(conf, 'w') as f:
            f.write('''server:
    rundir: {d}
    listen: 127.0.0.1@53
    udp-workers: 2
    tcp-workers: 2
    background-workers: 1
database:
    storage: {d}
control:
    listen: {d}/knot.sock
log:
  - target: stderr
    any: warning
mod-stats:
  - id: default
    edns-presence: on
template:
  - id: default
    storage: {d}
    global-module: mod-stats/default
zone:
  - domain: .
    file: {zone}
    zonefile-load: whole
    journal-content: none
'''.format(d=d, zone=os.path.join(self.a.corpus, 'root.zone')))
        self.knotsock = os.path.join(d, 'knot.sock')
        self.knot = self.start('knotd', ['knotd', '-c', conf])
        self.wait_dns('127.0.0.1', 'knotd')
        self.log('knotd %s serving %s on 127.0.0.1:53' % (
            subprocess.run(['knotd', '--version'], capture_output=True, text=True)
            .stdout.split()[-1], self.a.corpus))

    def start_delay(self):
        self.delay = self.start('dnsdelay', [
            os.path.join(self.a.build, 'bench', 'dnsdelay'), '-l', '127.0.0.2:53',
            '-u', '127.0.0.1:53', '-m', str(self.a.delay_ms),
            '-s', os.path.join(self.tmp, 'dnsdelay.stats')])
        t = self.wait_dns('127.0.0.2', 'dnsdelay')
        self.log('dnsdelay +%d ms on 127.0.0.2:53 (first answer in %.1f ms)' % (
            self.a.delay_ms, t * 1000))

    def wait_dns(self, ip, what, timeout=20):
        import dnslib
        q = dnslib.DNSRecord.question('bigmail.com', 'TXT').pack()
        t_end = time.time() + timeout
        while time.time() < t_end:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.5)
            try:
                t0 = time.time()
                s.sendto(q, (ip, 53))
                ans = dnslib.DNSRecord.parse(s.recv(65535))
                if ans.rr:
                    return time.time() - t0
            except OSError:
                time.sleep(0.1)
            finally:
                s.close()
        raise RuntimeError('%s does not answer on %s:53' % (what, ip))

    @staticmethod
    def udp_errors():
        # kernel UDP drops in this namespace (a full socket buffer loses
        # DNS answers silently and shows up as timeouts)
        with open('/proc/net/snmp') as f:
            rows = [l.split() for l in f if l.startswith('Udp:')]
        d = dict(zip(rows[0][1:], rows[1][1:]))
        return int(d.get('InErrors', 0)) + int(d.get('RcvbufErrors', 0))

    @staticmethod
    def udp_socket_drops():
        # which sockets dropped: port 53 is Knot or dnsdelay, any other
        # is a client's resolver socket
        out = []
        for fn in ('/proc/net/udp', '/proc/net/udp6'):
            with open(fn) as f:
                next(f)
                for line in f:
                    x = line.split()
                    if int(x[-1]) > 0:
                        ip, port = x[1].split(':')
                        out.append('%s:%d dropped %s' % (
                            '127.0.0.%d' % int(ip[:2], 16) if len(ip) == 8 else ip,
                            int(port, 16), x[-1]))
        return out

    def knot_queries(self):
        """Queries Knot has answered so far: total and over TCP."""
        out = subprocess.run(['knotc', '-s', self.knotsock, 'stats'],
                             capture_output=True, text=True).stdout
        n = tcp = edns = 0
        for line in out.splitlines():
            if line.startswith('mod-stats.request-protocol['):
                v = int(line.split('=')[1])
                n += v
                if '[tcp' in line:
                    tcp += v
            elif line.startswith('mod-stats.edns-presence[request]'):
                edns += int(line.split('=')[1])
        return n, tcp, edns

    # --- servers -------------------------------------------------------------
    def our_conf(self, delay):
        path = os.path.join(self.tmp, 'policyd-spf-%d.conf' % delay)
        with open(PY_CONF) as f:
            base = f.read()
        with open(path, 'w') as f:
            f.write(base.rstrip('\n') + '\n\n# benchmark: the same DNS server as the '
                    'Python one, named directly\nDNS_Servers = %s:53\n' % (
                        '127.0.0.1' if delay == 0 else '127.0.0.2'))
            # the default (1024) would hold the 10,000-connection cell at
            # the door; a deployment that wants 10,000 says so
            f.write('Max_Connections = 12000\n')
            # BENCH_CONF_EXTRA="debugLevel = 2" and the like, for debugging
            extra = os.environ.get('BENCH_CONF_EXTRA', '')
            if extra:
                f.write(extra.replace('\\n', '\n') + '\n')
        return path

    def start_server(self, server, delay):
        port = PORTS[server]
        self.set_resolver(delay)
        if server == 'null':
            argv = [os.path.join(self.a.build, 'bench', 'nullpolicy'),
                    'inet:127.0.0.1:%d' % port]
        elif server == 'python':
            # Postfix's spawn: one process per connection, the socket as
            # stdin/stdout (here a socketpair to socat)
            argv = ['socat', 'TCP-LISTEN:%d,bind=127.0.0.1,fork,reuseaddr,backlog=1024'
                    % port, 'EXEC:/usr/bin/policyd-spf']
        else:
            argv = [self.a.ours, '--foreground', '--listen',
                    'inet:127.0.0.1:%d' % port, self.our_conf(delay)]
        p = self.start(server, argv)
        t_end = time.time() + 15
        while True:
            if p.poll() is not None:
                with open(p.logpath, errors='replace') as f:
                    tail = ' | '.join(f.read().strip().splitlines()[-3:])
                self.procs.remove(p)
                raise RuntimeError('%s exited with %s at start: %s' % (
                    server, p.returncode, tail))
            try:
                socket.create_connection(('127.0.0.1', port), 0.5).close()
                break
            except OSError:
                if time.time() > t_end:
                    raise RuntimeError('%s does not listen on %d' % (server, port))
                time.sleep(0.05)
        time.sleep(0.3)     # let socat's probe child exit before measuring
        return p, 'inet:127.0.0.1:%d' % port

    # --- one cell ------------------------------------------------------------
    def loadgen(self, server, delay, conns, nreq, secs, phase):
        w0 = time.time()
        p, target = self.start_server(server, delay)
        w1 = time.time()
        q0 = self.knot_queries()
        u0 = self.udp_errors()
        argv = [os.path.join(self.a.build, 'bench', 'loadgen'), '-s', target,
                '-r', os.path.join(self.a.corpus, 'requests.txt'),
                '-e', os.path.join(self.a.corpus, 'expected.txt'),
                '-c', str(conns), '-n', str(nreq), '-d', str(secs), '-p', str(p.pid),
                # warm-up bound: 64 Python processes starting at once on a
                # busy 2-core machine have been seen to need over 30 s
                '-w', str(180 if server == 'python' else 60 + conns // 200)]
        if server == 'null':
            argv.append('-q')
        lg = subprocess.run(argv, capture_output=True, text=True,
                            timeout=secs + 300)
        w2 = time.time()
        q1 = self.knot_queries()
        u1 = self.udp_errors()
        if u1 != u0:
            self.log('UDP drops by socket: %s' % '; '.join(self.udp_socket_drops()))
        alive = p.poll() is None
        self.stop(p)
        r = {'server': server, 'delay_ms': delay, 'conns': conns, 'phase': phase,
             'loadgen_rc': lg.returncode, 'server_alive': alive,
             'wall_start': round(w1 - w0, 2), 'wall_loadgen': round(w2 - w1, 2),
             'wall_stop': round(time.time() - w2, 2)}
        for line in lg.stdout.splitlines():
            k, _, v = line.partition('=')
            if k.startswith('count.'):
                r.setdefault('counts', {})[k[6:]] = int(v)
            elif k == 'target':
                continue
            else:
                try:
                    r[k] = float(v) if '.' in v else int(v)
                except ValueError:
                    r[k] = v
        sent = r.get('sent', 0)
        (q0, t0, e0), (q1, t1, e1) = q0, q1
        r['dns_queries'] = q1 - q0
        r['dns_tcp_queries'] = t1 - t0
        r['dns_edns_queries'] = e1 - e0
        r['udp_drops'] = u1 - u0
        r['dns_q_per_req'] = (q1 - q0) / sent if sent else 0
        if lg.stderr.strip():
            with open(os.path.join(self.tmp, 'loadgen.err'), 'a') as f:
                f.write('== %s %s +%dms c=%d\n%s' % (phase, server, delay, conns, lg.stderr))
            r['stderr'] = lg.stderr.strip().splitlines()[:12]
        if server != 'null':
            r['valid'] = (r.get('mismatches', 1) == 0 and r.get('warmup_mismatches', 1) == 0
                          and r.get('errors', 1) == 0 and r.get('unanswered', 1) == 0
                          and r.get('requests', 0) > 0 and alive)
        else:
            r['valid'] = r.get('errors', 1) == 0 and r.get('requests', 0) > 0
        self.log('%-9s %-11s +%2dms c=%-5d %8.1f req/s  p50 %7.2f  p99 %8.2f ms  '
                 'cpu %.3f ms/req  rss %6.1f MB  dnsq/req %.2f  mismatches %d  %s  '
                 '[wall %.1f+%.1f+%.1f s, udp drops %d, dns tcp %d edns %d]' % (
                     phase, server, delay, conns, r.get('rps', 0), r.get('p50_ms', 0),
                     r.get('p99_ms', 0), r.get('cpu_ms_per_req', 0),
                     r.get('peak_rss_kb', 0) / 1024.0, r['dns_q_per_req'],
                     r.get('mismatches', -1) + r.get('warmup_mismatches', 0),
                     'ok' if r['valid'] else 'INVALID', r['wall_start'], r['wall_loadgen'],
                     r['wall_stop'], r['udp_drops'], r['dns_tcp_queries'],
                     r['dns_edns_queries']))
        for line in r.get('stderr', [])[:5]:
            self.log('    ' + line)
        return r

    # --- the matrix ----------------------------------------------------------
    def plan(self):
        q = self.a.quick
        servers = ['null', 'python'] + (['policyd-spf'] if self.a.ours else [])
        cells = []
        if q:
            cells += [(0, 'null', 8, 2), (0, 'python', 8, 5), (0, 'policyd-spf', 8, 4),
                      (20, 'python', 16, 6), (20, 'policyd-spf', 16, 4),
                      (20, 'policyd-spf', 64, 4),
                      (20, 'policyd-spf', 1000, 4)]
        else:
            for delay in (0, 20):
                for c in (1, 8, 64):
                    cells.append((delay, 'null', c, 3))
                for c in (1, 8, 64):
                    cells.append((delay, 'python', c, 10 if delay == 0 else 15))
                for c in (1, 8, 64, 1000, 10000):
                    cells.append((delay, 'policyd-spf', c, 10))
        if self.a.only:
            # BENCH_ONLY=server:delay:conns[:secs],...  (for debugging a cell)
            cells = []
            for item in self.a.only.split(','):
                f = item.split(':')
                cells.append((int(f[1]), f[0], int(f[2]), int(f[3]) if len(f) > 3 else 5))
        return servers, [c for c in cells if c[1] in servers]

    def run(self):
        servers, cells = self.plan()
        with open(os.path.join(self.a.corpus, 'expected.txt')) as f:
            nreq = sum(1 for _ in f)
        self.nreq = nreq
        vn = 2000 if self.a.quick or self.a.only else nreq
        for s in servers:
            if s == 'null':
                continue
            try:
                r = self.loadgen(s, 0, 8, vn, 300, 'validate')
            except RuntimeError as e:
                # a server that cannot start is reported, not fatal: the
                # others' figures still stand
                self.log('%s: %s' % (s, e))
                self.notes.append('%s: could not be run: %s' % (LABEL[s], e))
                r = {'server': s, 'phase': 'validate', 'valid': False,
                     'delay_ms': 0, 'conns': 8, 'stderr': [str(e)]}
            self.validation[s] = r
            self.results.append(r)
        for delay, s, c, secs in cells:
            if s != 'null' and not self.validation[s]['valid']:
                self.notes.append('%s: cell +%d ms x %d conns skipped: its validation '
                                  'run failed' % (LABEL[s], delay, c))
                continue
            try:
                r = self.loadgen(s, delay, c, 10 ** 8, secs, 'measure')
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                self.log('%s +%d ms x %d: %s' % (s, delay, c, e))
                self.notes.append('%s: cell +%d ms x %d conns failed: %s' % (
                    LABEL[s], delay, c, e))
                continue
            self.results.append(r)
            self.save()

    def save(self):
        with open(os.path.join(self.a.out, 'results.json'), 'w') as f:
            json.dump({'meta': self.meta(), 'notes': self.notes,
                       'results': self.results}, f, indent=1)

    def meta(self):
        cpu = '?'
        try:
            with open('/proc/cpuinfo') as f:
                for line in f:
                    if line.startswith('model name'):
                        cpu = line.split(':', 1)[1].strip()
                        break
        except OSError:
            pass
        with open(os.path.join(self.a.corpus, 'summary.txt')) as f:
            corpus = f.readline().strip()
        return {'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
                'cpus': os.cpu_count(), 'cpu': cpu, 'kernel': platform.release(),
                'corpus': corpus, 'quick': bool(self.a.quick),
                'delay_ms': self.a.delay_ms, 'ours': self.a.ours or None,
                'ours_missing': self.a.ours_missing}


def fmt(v, nd=1):
    if v is None:
        return '–'
    if isinstance(v, str):
        return v
    if v >= 100:
        return '{:,.0f}'.format(v)
    return ('%.' + str(nd) + 'f') % v


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def rstr(x):
    if x is None:
        return '–'
    if x >= 10:
        return '%.0f×' % x
    if x >= 1:
        return '%.1f×' % x
    return '%.3g×' % x


def report(data, path):
    m = data['meta']
    res = [r for r in data['results'] if r['phase'] == 'measure']
    val = [r for r in data['results'] if r['phase'] == 'validate']
    L = []
    L.append('# policyd-spf benchmark%s\n' % (' (BENCH_QUICK subset)' if m['quick'] else ''))
    L.append('Run %s on %d CPU(s) (%s), Linux %s, with `make bench`.  '
             'Corpus (t/bench/gen.py): %s.  DNS: Knot DNS on loopback; "+%d ms" goes '
             'through t/bench/dnsdelay, which holds every query %d ms.  Load: '
             't/bench/loadgen, C connections each sending one request after another '
             '(the recipients of a message on one connection, as smtpd does).  '
             'Python policyd-spf runs one process per connection (socat fork+exec, '
             'as Postfix spawn(8) runs it).  Each cell starts a fresh server.\n' % (
                 m['date'], m['cpus'], m['cpu'], m['kernel'], m['corpus'],
                 m['delay_ms'], m['delay_ms']))
    L.append('CPU is all processes of the server (forked children included) over the '
             'measured window; memory is the peak of the summed RSS of those processes '
             '(sampled every 100 ms); DNS queries per request are counted by Knot '
             '(warm-up requests included).  Latency is from writing a request to '
             'reading its full reply.  "UDP drops" are datagrams the kernel dropped '
             'in the benchmark namespace (full socket buffers: lost DNS queries or '
             'answers).  "wrong" counts replies that differ from the expected ones '
             '(warm-up included); a cell with any is marked INVALID.  The machine '
             'may be shared: compare figures within one run.\n')
    L.append('## Correctness first\n')
    for r in val:
        L.append('- %s: %d requests checked against the expected actions '
                 '(+ %d warm-up), %d wrong, %d errors: **%s**' % (
                     LABEL[r['server']], r.get('requests', 0), r.get('conns', 0),
                     r.get('mismatches', 0) + r.get('warmup_mismatches', 0),
                     r.get('errors', 0), 'all answers right' if r['valid'] else 'FAILED'))
        for line in r.get('stderr', [])[:6]:
            L.append('  - `%s`' % line.replace('`', "'")[:300])
    if m.get('ours_missing'):
        L.append('- policyd-spf (C): **not run**: %s' % m['ours_missing'])
    for n in data['notes']:
        L.append('- %s' % n)
    L.append('')
    L.append('## Results\n')
    L.append('| DNS | conns | server | req/s | p50 ms | p90 ms | p99 ms | max ms | '
             'CPU s / 1,000 req | peak RSS MB | DNS q/req | UDP drops | wrong |')
    L.append('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for r in res:
        wrong = r.get('mismatches', 0) + r.get('warmup_mismatches', 0)
        L.append('| +%d ms | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
            r['delay_ms'], '{:,}'.format(r['conns']), LABEL[r['server']],
            fmt(r.get('rps')), fmt(r.get('p50_ms'), 2), fmt(r.get('p90_ms'), 2),
            fmt(r.get('p99_ms'), 2), fmt(r.get('max_ms'), 2),
            fmt(r.get('cpu_ms_per_req'), 3) if r['server'] != 'null' else
            fmt(r.get('cpu_ms_per_req'), 3),
            fmt(r.get('peak_rss_kb', 0) / 1024.0), fmt(r.get('dns_q_per_req'), 2),
            str(r.get('udp_drops', 0)),
            ('n/a' if r['server'] == 'null' else str(wrong)) +
            ('' if r['valid'] else ' INVALID')))
    L.append('')
    ours = {(r['delay_ms'], r['conns']): r for r in res if r['server'] == 'policyd-spf'}
    py = {(r['delay_ms'], r['conns']): r for r in res if r['server'] == 'python'}
    nul = {(r['delay_ms'], r['conns']): r for r in res if r['server'] == 'null'}
    keys = sorted(set(ours) & set(py))
    if keys:
        L.append('## Ratios policyd-spf / Python (same run)\n')
        L.append('| DNS | conns | req/s | p50 | p90 | p99 | CPU per req | peak RSS | DNS q/req |')
        L.append('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
        for k in keys:
            o, p = ours[k], py[k]
            L.append('| +%d ms | %d | %s | %s | %s | %s | %s | %s | %s |' % (
                k[0], k[1], rstr(ratio(o.get('rps'), p.get('rps'))),
                rstr(ratio(o.get('p50_ms'), p.get('p50_ms'))),
                rstr(ratio(o.get('p90_ms'), p.get('p90_ms'))),
                rstr(ratio(o.get('p99_ms'), p.get('p99_ms'))),
                rstr(ratio(o.get('cpu_ms_per_req'), p.get('cpu_ms_per_req'))),
                rstr(ratio(o.get('peak_rss_kb'), p.get('peak_rss_kb'))),
                rstr(ratio(o.get('dns_q_per_req'), p.get('dns_q_per_req')))))
        L.append('')
    # the targets, each with the figures it rests on
    L.append('## Targets (issue 3)\n')

    def best(d):
        v = [r for r in d.values() if r['valid']]
        return max(v, key=lambda r: r.get('rps', 0)) if v else None

    t = []
    o8, p8 = ours.get((0, 8)), py.get((0, 8))
    if o8 and p8 and o8.get('cpu_ms_per_req'):
        x = p8['cpu_ms_per_req'] / o8['cpu_ms_per_req']
        t.append(('CPU per request ≥ 50× less than Python (+0 ms, 8 conns)',
                  '%.1f×' % x, x >= 50))
    bo, bp, bn = best(ours), best(py), best(nul)
    if bo and bp:
        x = bo['rps'] / bp['rps']
        t.append(('Throughput ≥ 20× Python\'s best point', '%.1f× (%s vs %s req/s)' % (
            x, fmt(bo['rps']), fmt(bp['rps'])), x >= 20))
    if bo and bn:
        x = bo['rps'] / bn['rps']
        t.append(('Throughput ≥ ½ of the null server (harness ceiling)',
                  '%.2f (%s vs %s req/s)' % (x, fmt(bo['rps']), fmt(bn['rps'])), x >= 0.5))
    o64, p64 = ours.get((20, 64)), py.get((20, 64))
    if o64 and p64:
        x = o64['p99_ms'] / p64['p99_ms'] if p64['p99_ms'] else None
        t.append(('+20 ms, 64 conns: p99 ≤ ⅓ of Python\'s', '%s ms vs %s ms' % (
            fmt(o64['p99_ms'], 2), fmt(p64['p99_ms'], 2)), x is not None and x <= 1 / 3.0))
        x = o64['rps'] / p64['rps'] if p64['rps'] else 0
        t.append(('+20 ms, 64 conns: throughput ≥ 10× Python\'s', '%.1f×' % x, x >= 10))
    for k, lim in [((0, 64), 32), ((20, 64), 32), ((0, 10000), 256), ((20, 10000), 256)]:
        r = ours.get(k)
        if r:
            mb = r.get('peak_rss_kb', 0) / 1024.0
            t.append(('Memory at %d conns (+%d ms) ≤ %d MB, all answers right' % (
                k[1], k[0], lim), '%.1f MB' % mb, mb <= lim and r['valid']))
    if not t:
        L.append('Not evaluated: policyd-spf (C) was not measured in this run.')
    else:
        L.append('| target | measured | met |')
        L.append('|---|---|---|')
        for name, val_, ok in t:
            L.append('| %s | %s | %s |' % (name, val_, 'yes' if ok else '**no**'))
    L.append('')
    with open(path, 'w') as f:
        f.write('\n'.join(L))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', required=True)
    ap.add_argument('--corpus', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--tmp', required=True)
    ap.add_argument('--ours', default='')
    ap.add_argument('--ours-missing', default='')
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--only', default=os.environ.get('BENCH_ONLY', ''))
    ap.add_argument('--delay-ms', type=int, default=20)
    ap.add_argument('--report-only', action='store_true')
    a = ap.parse_args()
    for k in ('build', 'corpus', 'out', 'tmp', 'ours'):
        if getattr(a, k):
            setattr(a, k, os.path.abspath(getattr(a, k)))
    if a.report_only:
        with open(os.path.join(a.out, 'results.json')) as f:
            report(json.load(f), os.path.join(a.out, 'results.md'))
        return 0

    b = Bench(a)

    def on_signal(sig, frame):
        raise KeyboardInterrupt('signal %d' % sig)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    rc = 0
    try:
        b.setup_namespace()
        b.start_knot()
        b.start_delay()
        b.run()
    except KeyboardInterrupt as e:
        b.log('bench: interrupted (%s); stopping everything' % e)
        rc = 130
    except Exception as e:
        b.log('bench: FAILED: %s: %s' % (type(e).__name__, e))
        rc = 1
    finally:
        b.stop_all()
        b.save()
        report({'meta': b.meta(), 'notes': b.notes, 'results': b.results},
               os.path.join(a.out, 'results.md'))
    if rc == 0 and any(not r['valid'] for r in b.results):
        b.log('bench: some runs had wrong answers or errors (see results.md)')
        rc = 3
    return rc


if __name__ == '__main__':
    sys.exit(main())
