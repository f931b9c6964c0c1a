#!/usr/bin/python3
# engine-suite-pyspf.t - every test of both RFC suites through our engine
# and through pyspf (the engine of the Python policyd-spf), comparing the
# result word AND the second line byte for byte: the permerror/temperror
# problem text that the policy layer puts into reject replies, and the
# fail explanation.  spf-suite.t checks the RFC's verdict; this one checks
# that the texts are pyspf's.  Where we differ on purpose the test is
# listed in KNOWN with the reason, and must still differ as listed.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib'))
import testlib   # noqa: E402
import spfsuite  # noqa: E402

tap = testlib.Tap()
try:
    CHECK = testlib.binary('policyd-spf')
except FileNotFoundError as e:
    tap.bail(str(e))
SLOW = 60 if os.environ.get('PSPF_ASAN') else 20

PYSPF = r'''
import sys, DNS, spf
ip, s, h, port = sys.argv[1:5]
DNS.defaults['server'] = ['127.0.0.1']
DNS.defaults['port'] = int(port)
q = spf.query(i=ip, s=s, h=h, timeout=0.5)
q.set_default_explanation('DEFAULT')
res, _, exp = q.check()
for pre in ('SPF Permanent Error: ', 'SPF Temporary Error: '):
    if exp.startswith(pre):
        exp = exp[len(pre):]
sys.stdout.write(repr((res, exp if res in ('fail', 'permerror', 'temperror') else '')))
'''

CTRL = 'control characters in problem texts become "?" (the text goes into a one-line reply)'
IDNA = 'pyspf (pydns) cannot look up a name with an xn-- label; the RFC suite wants pass'
KNOWN = {
    'rfc7208/initial-processing/control-char-policy':
        (('permerror', 'Invalid domain found (use FQDN): ctrl.example.com?ptr'), CTRL),
    'rfc7208/initial-processing/badip4':
        (('permerror', 'Invalid IP4 address: ip4:192.0.2.5?'),
         'pyspf lets a trailing newline pass its ip4 regex and reports Python\'s ipaddress error'),
    'rfc7208/a-mechanism-syntax/a-null':
        (('permerror', 'Invalid domain found (use FQDN): foo.example.com?'), CTRL),
    'rfc7208/mx-mechanism-syntax/mx-null':
        (('permerror', 'Invalid domain found (use FQDN): foo.example.com?'), CTRL),
    'rfc4408/a-mechanism-syntax/a-null':
        (('permerror', 'Invalid domain found (use FQDN): foo.example.com?'), CTRL),
    'rfc4408/mx-mechanism-syntax/mx-null':
        (('permerror', 'Invalid domain found (use FQDN): foo.example.com?'), CTRL),
    'rfc7208/a-mechanism-syntax/a-dash-in-toplabel': (('pass', ''), IDNA),
    'rfc4408/a-mechanism-syntax/a-dash-in-toplabel': (('pass', ''), IDNA),
}


def check(t, dns):
    a = testlib.run([CHECK, 'check', '--ip', t.host, '--sender', t.mailfrom, '--helo', t.helo,
                     '--dns-server', dns.server, '--default-explanation', 'DEFAULT',
                     '--dns-timeout-ms', '500'], timeout=SLOW)
    lines = (a.stdout.split('\n') + ['', ''])[:2]
    ours = (lines[0], lines[1] if lines[0] in ('fail', 'permerror', 'temperror') else '')
    b = testlib.run([sys.executable, '-c', PYSPF, t.host, t.mailfrom, t.helo, str(dns.port)],
                    timeout=SLOW)
    try:
        theirs = eval(b.stdout, {})  # a repr() of two strings, written above
    except Exception:
        theirs = ('?', b.stderr.strip()[-300:])
    return ours, theirs


for name, path, count in spfsuite.SUITES:
    if not os.path.exists(path):
        tap.bail('%s missing: install python3-spf (scripts/deps.sh test)' % path)
    for t, (ours, theirs) in spfsuite.run_suite(path, check):
        if t.id in KNOWN:
            want, why = KNOWN[t.id]
            tap.ok(ours == want and theirs != ours, '%s: differs from pyspf on purpose (%s)' % (t.id, why),
                   'ours %r, pyspf %r, listed %r' % (ours, theirs, want))
        else:
            tap.is_(ours, theirs, t.id)
tap.done()
