#!/usr/bin/python3
# engine.t - SPF engine behaviour beyond the RFC suites, through real DNS
# (t/dnsd.py) and the real binaries: limits and their configuration,
# explanations, first_txt, SERVFAIL/timeouts, the whole-check deadline,
# parallel MX lookups, checks sharing one dns_ctx, cache hits answered
# synchronously, cancellation, and the `check` command's exit statuses.
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib  # noqa: E402

tap = testlib.Tap()
try:
    CHECK = testlib.binary('policyd-spf')
    PROBE = testlib.binary('tools/spf-probe')
except FileNotFoundError as e:
    tap.bail(str(e))
SLOW = 60 if os.environ.get('PSPF_ASAN') else 20

ZONE = {
    'example.com': [
        {'TXT': 'hello first'},
        {'TXT': 'v=spf1 include:inc.example.com mx a:www.example.com -all exp=why.example.com'},
    ],
    'inc.example.com': [{'TXT': 'v=spf1 ip4:10.0.0.0/8 ~all'}],
    'www.example.com': [{'A': '192.0.2.80'}],
    'why.example.com': [{'TXT': '%{i} may not send for %{d} (%{l}, %{o}, %{v})'}],
    # mx: the second host has no address (void), the third matches
    'mxv.example.com': [{'TXT': 'v=spf1 mx -all'}, {'MX': [10, 'm1.example.com']},
                        {'MX': [20, 'm2.example.com']}, {'MX': [30, 'm3.example.com']}],
    'm1.example.com': [{'A': '192.0.2.1'}],
    'm2.example.com': [{'AAAA': '2001:db8::2'}],
    'm3.example.com': [{'A': '192.0.2.3'}],
    'voids.example.com': [{'TXT': 'v=spf1 a:nx1.example.com a:nx2.example.com a:nx3.example.com -all'}],
    'nospf.example.com': [{'TXT': 'just text'}],
    'notxt.example.com': [{'A': '192.0.2.9'}],
    'many.example.com': [{'TXT': 'v=spf1 ' + ' '.join('a:h%d.example.com' % k for k in range(11)) + ' +all'}],
    'manyinc.example.com': [{'TXT': 'v=spf1 include:six.example.com a:h6.example.com a:h7.example.com '
                                    'a:h8.example.com a:h9.example.com ?all'}],
    'six.example.com': [{'TXT': 'v=spf1 a:h0.example.com a:h1.example.com a:h2.example.com '
                                'a:h3.example.com a:h4.example.com a:h5.example.com -all'}],
    'sf.example.com': [{'TXT': 'v=spf1 a:broken.example.com -all'}],
    'broken.example.com': ['SERVFAIL'],
    'slow.example.com': ['TIMEOUT'],
    'twoexp.example.com': [{'TXT': 'v=spf1 -all exp=e2.example.com'}],
    'e2.example.com': [{'TXT': 'one'}, {'TXT': 'two'}],
    'ptrm.example.com': [{'TXT': 'v=spf1 exists:%{p}.ok.example.com -all'}],
    '1.2.0.192.in-addr.arpa': [{'PTR': 'host.ptrm.example.com'}],
    'host.ptrm.example.com': [{'A': '192.0.2.1'}],
    'host.ptrm.example.com.ok.example.com': [{'A': '127.0.0.2'}],
}
for k in range(11):
    ZONE['h%d.example.com' % k] = [{'A': '198.51.100.%d' % (k + 1)}]
# hostile but legal DNS: a 5 kB record (TCP), 300 TXT records, a CNAME loop, TTL 0
ZONE['huge.example.com'] = [{'TXT': 'v=spf1 ' + ''.join('ip4:10.0.%d.%d ' % (k // 200, k % 200)
                                                       for k in range(400)) + '-all'}]
ZONE['manytxt.example.com'] = [{'TXT': 'junk %d' % k} for k in range(300)] + [{'TXT': 'v=spf1 +all'}]
ZONE['loop.example.com'] = [{'TXT': 'v=spf1 a:loop1.example.com mx:loop2.example.com -all'}]
ZONE['loop1.example.com'] = [{'CNAME': 'loop2.example.com'}]
ZONE['loop2.example.com'] = [{'CNAME': 'loop1.example.com'}]
ZONE['ttl0.example.com'] = [{'TTL': 0}, {'TXT': 'v=spf1 a:ttl0.example.com -all'}, {'A': '192.0.2.77'}]


def probe(dns, ip, sender, *args, helo='mail.example.org'):
    r = testlib.run([PROBE, '--dns-server', dns.server, '--ip', ip, '--sender', sender,
                     '--helo', helo] + list(args), timeout=SLOW)
    return r.returncode, r.stdout.splitlines(), r.stderr


def fields(line):
    f = line.split('|')
    return dict(result=f[0], exp=f[1], problem=f[2], mech=f[3], first_txt=f[4],
                lookups=int(f[5]), voids=int(f[6]), cache_hits=int(f[7]))


def one(dns, ip, sender, *args, **kw):
    rc, lines, err = probe(dns, ip, sender, *args, **kw)
    if rc != 0 or not lines:
        tap.diag('spf-probe exited %r: %s' % (rc, err[-2000:]))
        return dict(result='?', exp='', problem='', mech='', first_txt='', lookups=-1, voids=-1,
                    cache_hits=-1)
    return fields(lines[0])


with testlib.Dnsd(zone=ZONE) as dns:
    r = one(dns, '192.0.2.200', 'Joe@example.com')
    tap.is_(r['result'], 'fail', 'fail after include/mx/a')
    tap.is_(r['exp'], '192.0.2.200 may not send for example.com (Joe, example.com, in-addr)',
            'exp= expanded')
    tap.is_(r['mech'], '-all', 'deciding mechanism')
    tap.is_(r['first_txt'], 'hello first', 'first_txt is the first TXT string')
    tap.is_(r['lookups'], 3, 'three DNS mechanisms counted')

    r = one(dns, '10.1.2.3', 'joe@example.com')
    tap.is_((r['result'], r['mech']), ('pass', 'include:inc.example.com'),
            'include giving pass matches; the include term is the mechanism')
    r = one(dns, '192.0.2.201', 'joe@example.com', '--void-limit', '5')
    tap.is_((r['result'], r['voids']), ('fail', 1), 'include giving softfail is no match; MX void counted')

    r = one(dns, '192.0.2.80', 'joe@example.com')
    tap.is_((r['result'], r['mech']), ('pass', 'a:www.example.com'), 'a matches')

    r = one(dns, '::ffff:192.0.2.80', 'joe@example.com')
    tap.is_(r['result'], 'pass', 'IPv4-mapped IPv6 client evaluated as IPv4')

    # the three MX hosts are looked up together; the void one counts as
    # a sequential evaluation would count it
    r = one(dns, '192.0.2.3', 'joe@mxv.example.com')
    tap.is_((r['result'], r['voids']), ('pass', 1), 'mx: match on the third host, one void')
    r = one(dns, '192.0.2.3', 'joe@mxv.example.com', '--void-limit', '0')
    tap.is_((r['result'], r['problem']), ('permerror', 'Void lookup limit of 0 exceeded'),
            'mx: void host exceeds Void_Limit 0 although a later host matches')

    r = one(dns, '192.0.2.3', 'joe@voids.example.com')
    tap.is_((r['result'], r['problem']), ('permerror', 'Void lookup limit of 2 exceeded'),
            'third void lookup exceeds the default limit')
    r = one(dns, '192.0.2.3', 'joe@voids.example.com', '--void-limit', '3')
    tap.is_(r['result'], 'fail', 'Void_Limit 3 allows three')
    r = one(dns, '192.0.2.80', 'joe@example.com', '--void-limit', '-1')
    tap.is_((r['result'], r['problem']), ('permerror', 'Void lookup limit of -1 exceeded'),
            'a negative Void_Limit makes the first void lookup a permerror (as pyspf)')
    r = one(dns, '10.1.2.3', 'joe@example.com', '--void-limit', '-1')
    tap.is_(r['result'], 'pass', 'a negative Void_Limit without a void lookup is no error')

    r = one(dns, '192.0.2.3', 'joe@notxt.example.com', '--void-limit', '0')
    tap.is_((r['result'], r['problem']), ('permerror', 'Void lookup limit of 0 exceeded'),
            'no TXT at all with Void_Limit 0: permerror (as pyspf)')
    r = one(dns, '192.0.2.3', 'joe@nospf.example.com', '--void-limit', '0')
    tap.is_((r['result'], r['first_txt']), ('none', 'just text'), 'non-SPF TXT: none, first_txt kept')

    r = one(dns, '198.51.100.11', 'joe@many.example.com')
    tap.is_((r['result'], r['problem']), ('permerror', 'Too many DNS lookups'), '11th a: is too many')
    r = one(dns, '198.51.100.10', 'joe@manyinc.example.com')
    tap.is_((r['result'], r['problem']), ('permerror', 'Too many DNS lookups'),
            'the lookup limit is global across include')
    r = one(dns, '198.51.100.9', 'joe@manyinc.example.com')
    tap.is_((r['result'], r['mech']), ('pass', 'a:h8.example.com'),
            'the 10th lookup is still allowed')

    r = one(dns, '192.0.2.3', 'joe@sf.example.com')
    tap.is_((r['result'], r['problem']), ('temperror', 'DNS Error: SERVFAIL  RCODE: 2'),
            'SERVFAIL is temperror')
    r = one(dns, '192.0.2.3', 'joe@sf.example.com', '--servfail-void')
    tap.is_((r['result'], r['voids']), ('fail', 1), 'servfail_void: SERVFAIL counts as void')

    t0 = time.monotonic()
    r = one(dns, '192.0.2.3', 'joe@slow.example.com', '--timeout-ms', '700', '--dns-timeout-ms', '5000')
    took = time.monotonic() - t0
    tap.is_((r['result'], r['problem']), ('temperror', 'DNS Timeout'), 'whole-check deadline: temperror')
    tap.ok(took < 4, 'deadline of 0.7 s honoured (took %.1f s)' % took)
    r = one(dns, '192.0.2.3', 'joe@slow.example.com', '--timeout-ms', '-1')
    tap.is_((r['result'], r['problem']), ('temperror', 'DNS Error: exceeded max query lookup time'),
            'negative deadline: temperror at once')

    r = one(dns, '192.0.2.3', 'joe@twoexp.example.com', '--default-exp', 'see %{d}')
    tap.is_((r['result'], r['exp']), ('fail', 'see twoexp.example.com'),
            'two exp TXT records: default explanation, macro-expanded')

    r = one(dns, '192.0.2.1', 'joe@ptrm.example.com')
    tap.is_((r['result'], r['mech']), ('pass', 'exists:%{p}.ok.example.com'),
            '%{p} validated and used in exists')
    r = one(dns, '192.0.2.1', 'joe@ptrm.example.com', helo='x')
    tap.ok(r['lookups'] == 1, 'PTR validation lookups do not count as mechanisms')

    r = one(dns, '10.0.1.150', 'joe@huge.example.com')
    tap.is_((r['result'], r['mech']), ('pass', 'ip4:10.0.1.150'), 'a 5 kB record (over TCP) is evaluated')
    r = one(dns, '192.0.2.1', 'joe@manytxt.example.com')
    tap.is_((r['result'], r['first_txt']), ('pass', 'junk 0'), '300 TXT records: the SPF one is found')
    r = one(dns, '192.0.2.1', 'joe@loop.example.com')
    tap.ok(r['result'] in ('fail', 'temperror', 'permerror'), 'a CNAME loop gives a bounded result (%s %s)'
           % (r['result'], r['problem']))
    rc, lines, err = probe(dns, '192.0.2.77', 'joe@ttl0.example.com', '--parallel', '3')
    tap.ok(rc == 0 and len([l for l in lines if l.startswith('pass|')]) == 4,
           'TTL 0 answers: every check still passes')
    tap.ok('second round not answered from the cache' in lines, 'TTL 0 answers are not cached')

    # many checks on one dns_ctx, then one more answered from the cache
    rc, lines, err = probe(dns, '192.0.2.200', 'joe@example.com', '--parallel', '50')
    tap.is_(rc, 0, 'spf-probe with 50 parallel checks exits 0')
    tap.is_(len(lines), 51, '51 results (50 parallel + 1 from cache)')
    tap.ok(all(l.split('|')[0] == 'fail' for l in lines), 'all of them fail')
    last = fields(lines[-1]) if lines else {'cache_hits': 0}
    tap.ok(last['cache_hits'] >= 5, 'the last check was answered from the cache (%d hits)'
           % last['cache_hits'])
    rc, lines, err = probe(dns, '192.0.2.200', 'joe@example.com', '--parallel', '20', '--cancel')
    tap.is_((rc, lines[:1]), (0, ['cancelled']), 'cancelled checks report nothing')
    tap.is_(len(lines), 2, 'the check after the cancelled ones still runs')

    # the command line
    def cli(*args):
        return testlib.run([CHECK, 'check', '--dns-server', dns.server] + list(args), timeout=SLOW)
    r = cli('--ip', '192.0.2.80', '--sender', 'joe@example.com', '--helo', 'x.example.org')
    tap.is_((r.returncode, r.stdout), (0, 'pass\n'), 'check: pass, exit 0')
    r = cli('--ip', '192.0.2.200', '--sender', 'joe@example.com', '--helo', 'x.example.org')
    tap.is_((r.returncode, r.stdout.split('\n')[0]), (1, 'fail'), 'check: fail, exit 1')
    r = cli('--ip', '192.0.2.200', '--sender', 'joe@twoexp.example.com', '--helo', 'x')
    tap.is_(r.stdout, 'fail\nSPF fail - not authorized\n', 'check: default explanation')
    r = cli('--ip', '192.0.2.200', '--sender', '', '--helo', 'example.com')
    tap.is_(r.stdout.split('\n')[0], 'fail', 'check: null sender checks postmaster@HELO')
    r = cli('--ip', '192.0.2.3', '--sender', 'joe@many.example.com', '--helo', 'x')
    tap.is_((r.returncode, r.stdout), (5, 'permerror\nToo many DNS lookups\n'), 'check: permerror, exit 5')
    r = cli('--ip', '192.0.2.3', '--sender', 'joe@nospf.example.com', '--helo', 'x')
    tap.is_((r.returncode, r.stdout), (4, 'none\n'), 'check: none, exit 4')
    r = cli('--ip', '192.0.2.3', '--sender', 'joe@sf.example.com', '--helo', 'x')
    tap.is_(r.returncode, 6, 'check: temperror, exit 6')
    r = cli('--ip', '192.0.2.3', '--sender', 'joe@sf.example.com', '--helo', 'x', '--trace')
    tap.ok('dns query A broken.example.com' in r.stderr and 'void' not in r.stdout,
           'check --trace shows the queries')
    r = cli('--ip', '192.0.2.3', '--helo', 'x')
    tap.is_(r.returncode, 64, 'check: missing --sender is a usage error (64)')
    r = cli('--ip', 'not-an-ip', '--sender', 'a@example.com', '--helo', 'x')
    tap.is_((r.returncode, r.stdout),
            (5, "permerror\n'not-an-ip' does not appear to be an IPv4 or IPv6 address\n"),
            'check: a bad client address is permerror')

tap.done()
