#!/usr/bin/python3
# policy.t - our policyd-spf in spawn mode (requests on stdin, replies on
# stdout, as spawn(8) runs it) against t/dnsd.py on a free loopback port:
# for every option and every row of the decision matrix, the exact reply
# lines (the cases of t/lib/policylib.py, which t/policy-compat.t also
# checks against the Python server).  Then what only ours does: Mock
# answered at once, Per_User, Request_Timeout, log lines by debugLevel.
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib'))
import testlib     # noqa: E402
import policylib   # noqa: E402
from policylib import req, rej, mf, FAILR, GOOD, BAD  # noqa: E402

tap = testlib.Tap()
try:
    OURS = [testlib.binary('policyd-spf')]
except FileNotFoundError as e:
    tap.bail(str(e))
mult = 3 if os.environ.get('PSPF_ASAN') else 1


def run(conf, requests, timeout=60, env=None, files=None):
    return policylib.run_spawn(OURS, conf + 'DNS_Servers = %s\n' % dns.server, requests,
                               timeout=timeout * mult, env=env, files=files)


with testlib.Dnsd(zone=policylib.ZONE) as dns:
    for case in policylib.cases():
        rc, got, err = run(case['conf'], case['requests'], case['timeout'], files=case['files'])
        tap.is_(got, case['want'], case['name'], err[-800:])
        tap.is_(rc, 0, '  exit status 0', err[-800:])

    # Mock: any non-empty value, answered at once (Python never flushes it)
    rc, got, err = run(policylib.BASE + 'Mock = False\n', [req(), req()])
    tap.is_(got, ['action=dunno mock header field that should be ignored'] * 2, 'Mock = False is on')

    # Per_User: overrides for one recipient, full address as receiver
    d = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'pspf-peruser.%d' % os.getpid())
    with open(d, 'w') as f:
        f.write('# per user\nbob@example.net, Mail_From_reject=False|TestOnly=0\n'
                'carol@example.net,Reject_Not_Pass_Domains=softfail.example.com\n')
    try:
        rc, got, err = run(policylib.BASE + 'Per_User = text,%s\n' % d,
                           [req(recipient='bob@example.net'), req(recipient='alice@example.net'),
                            req(recipient='carol@example.net', sender='alice@softfail.example.com')])
        tap.is_(got, [mf('Fail', 'alice@fail.example.com', rcv='bob@example.net'),
                      rej(FAILR, 'mfrom', 'alice@fail.example.com', rcv='alice@example.net'),
                      rej('Receiver policy for SPF Softfail', 'mfrom', 'alice@softfail.example.com',
                          rcv='carol@example.net')],
                'Per_User overrides and full receiver', err[-800:])
    finally:
        os.unlink(d)

    # Request_Timeout: a silent DNS server; the answer comes before the deadline
    t0 = time.monotonic()
    rc, got, err = run('Lookup_Time = 30\nRequest_Timeout = 2\n', [req(sender='alice@temperror.example.com')])
    took = time.monotonic() - t0
    tap.is_(got, [mf('Temperror', 'alice@temperror.example.com')], 'Request_Timeout answers Temperror', err[-800:])
    tap.ok(took < 10 * mult, 'Request_Timeout: answered in %.1f s' % took)
    rc, got, err = run('Lookup_Time = 30\nRequest_Timeout = 2\nTempError_Defer = True\n',
                       [req(sender='alice@temperror.example.com')])
    tap.is_(got, [policylib.dfr(policylib.TEMPR, 'mfrom', 'alice@temperror.example.com')],
            'Request_Timeout with TempError_Defer defers', err[-800:])

    # Lookup_Time: the per-check budget of the Python server
    t0 = time.monotonic()
    rc, got, err = run('Lookup_Time = 1\n', [req(helo_name='temphelo.example.com', sender='alice@temperror.example.com')])
    took = time.monotonic() - t0
    tap.is_(got, [mf('Temperror', 'alice@temperror.example.com', 'temphelo.example.com')],
            'Lookup_Time = 1: both checks Temperror', err[-800:])
    tap.ok(took < 6 * mult, 'HELO and MAIL FROM run in parallel (%.1f s)' % took)

    # a HELO reject does not wait for a MAIL FROM domain whose DNS is dead
    t0 = time.monotonic()
    rc, got, err = run('Lookup_Time = 15\n', [req(helo_name='badhelo.example.com', sender='alice@temperror.example.com')])
    took = time.monotonic() - t0
    tap.is_(got, [rej(FAILR, 'helo', 'badhelo.example.com')], 'HELO reject with a silent MAIL FROM domain', err[-800:])
    tap.ok(took < 5 * mult, 'HELO reject answered without waiting for MAIL FROM (%.1f s)' % took)
    # ... but a HELO Fail that No_Mail turns into a prepend needs MAIL FROM
    rc, got, err = run('Lookup_Time = 1\nNo_Mail = True\n', [req(helo_name='notnomail.example.com', sender='alice@temperror.example.com')])
    tap.is_(got, [mf('Temperror', 'alice@temperror.example.com', 'notnomail.example.com')],
            'No_Mail: HELO Fail downgraded, MAIL FROM still decides the header', err[-800:])

    # a bad integer stops start-up with FILE:LINE
    rc, got, err = run('debugLevel = yes\n', [req()])
    tap.ok(rc not in (0, None) and got == [], 'bad integer: no start, exit %r' % rc)
    tap.ok(':1: invalid literal for int() with base 10: \'yes\'' in err, 'bad integer: FILE:LINE on stderr', err)

tap.done()
