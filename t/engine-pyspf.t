#!/usr/bin/python3
# engine-pyspf.t - our engine against pyspf (Debian python3-spf, the engine
# of the Python policyd-spf) on records beyond the RFC suites, comparing
# what the policy layer turns into reply texts: the result word, the
# permerror/temperror problem text byte for byte, and the fail
# explanation.  Both ask the same t/dnsd.py.  The few places where we
# follow RFC 7208 rather than pyspf are listed in DEVIATIONS and must
# differ exactly as listed.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib  # noqa: E402

tap = testlib.Tap()
try:
    CHECK = testlib.binary('policyd-spf')
except FileNotFoundError as e:
    tap.bail(str(e))
try:
    import DNS  # noqa: E402
    import spf  # noqa: E402
except ImportError as e:
    tap.bail('python3-spf / python3-dns missing: %s' % e)
SLOW = 60 if os.environ.get('PSPF_ASAN') else 20

LONG = 'x' * 60
RECORDS = {
    'moo': 'v=spf1 ip4:192.0.2.0/24 moo',
    'exp': 'v=spf1 -all exp=exp.%{d}',
    'exp-long': 'v=spf1 -all exp=long.exp.example.com',
    'exp-two': 'v=spf1 -all exp=two.exp.example.com',
    'exp-p': 'v=spf1 -all exp=p.exp.example.com',
    'exp-bad': 'v=spf1 -all exp=bad.exp.example.com',
    'exp-crt': 'v=spf1 -all exp=%{c}.example.com',
    'local': 'v=spf1 a:%{l}.example.com -all',
    'crt-mod': 'v=spf1 foo=%{c} -all',
    'redir-ignored': 'v=spf1 redirect=pass.example.com -all',
    'redir-used': 'v=spf1 ip4:203.0.113.1 redirect=pass.example.com',
    'redir-none': 'v=spf1 redirect=nonexist.example.com',
    'inc-none': 'v=spf1 include:nonexist.example.com -all',
    'inc-pass': 'v=spf1 -include:pass.example.com +all',
    'inc-perm': 'v=spf1 include:moo.example.com +all',
    'inc-exp': 'v=spf1 include:exp.example.com ~all exp=exp2.example.com',
    'ptr': 'v=spf1 ptr:example.com -all',
    'ptr-p': 'v=spf1 exists:%{p}.in.example.com -all',
    'mx11': 'v=spf1 mx -all',
    'cidr': 'v=spf1 a:addr.example.com/24//64 -all',
    'ip6ex': 'v=spf1 exists:%{i}.%{v}.%{d} -all',
    'spaces': 'v=spf1  a:addr.example.com   ~all ',
    'toomany': 'v=spf1 ' + ' '.join('a:addr.example.com/32' for k in range(11)) + ' +all',
    'voids': 'v=spf1 ' + ' '.join('a:nx%d.addr.example.com' % k for k in range(3)) + ' +all',
    'dupmod': 'v=spf1 foo=1 foo=2 -all',
    'uredir': 'v=spf1 REDIRECT=pass.example.com',
    'digit0': 'v=spf1 a:%{d0}.addr.example.com -all',
    'badtrans': 'v=spf1 a:%{dx}.addr.example.com -all',
    'voidinc': 'v=spf1 include:void2.example.com -all',
    'void2': 'v=spf1 a:nx1.example.com a:nx2.example.com ?all',
    'qual': 'v=spf1 ^all',
    'comma': 'v=spf1 a, -all',
    'ip4bad': 'v=spf1 ip4:192.0.2.1/33',
    'ip6bad': 'v=spf1 ip6:::1//64',
    'allarg': 'v=spf1 all:x',
    'mxcidr': 'v=spf1 mx:mx11.example.com/24 -all',
    'fqdn': 'v=spf1 a:localhost -all',
    'emptya': 'v=spf1 a: -all',
    'impl': 'v=spf1 exists -all',
    'triv': 'v=spf1 include:%{d} -all',
    'pass': 'v=spf1 +all',
    'upper': 'V=SPF1 -ALL',
    'helo': 'v=spf1 a:%{h} -all',
    'timeout': 'v=spf1 a:slow.example.com -all',
}
ZONE = {'%s.example.com' % k: [{'TXT': v}] for k, v in RECORDS.items()}
ZONE.update({
    'exp.exp.example.com': [{'TXT': '%{s} %{l} %{o} %{d} %{i} %{v} %{h} %{c} %{r} %{S} %{D2r}'}],
    'long.exp.example.com': [{'TXT': ['%s.%s.' % (LONG, LONG), '%s.%s.%s' % (LONG, LONG, LONG)]}],
    'two.exp.example.com': [{'TXT': 'one'}, {'TXT': 'two'}],
    'p.exp.example.com': [{'TXT': 'ptr is %{p}'}],
    'bad.exp.example.com': [{'TXT': 'bad %{x} macro'}],
    'exp2.example.com': [{'TXT': 'top-level exp'}],
    'addr.example.com': [{'A': '192.0.2.10'}, {'AAAA': '2001:db8::10'}],
    'mx11.example.com': [{'MX': [k, 'm%d.example.com' % k]} for k in range(11)],
    '10.2.0.192.in-addr.arpa': [{'PTR': 'host.example.com'}, {'PTR': 'other.example.net'}],
    'host.example.com': [{'A': '192.0.2.10'}],
    'host.example.com.in.example.com': [{'A': '127.0.0.2'}],
    'slow.example.com': ['TIMEOUT'],
    'twospf.example.com': [{'TXT': 'v=spf1 -all'}, {'TXT': 'v=spf1 +all'}],
    'nonascii.example.com': [{'TXT': 'v=spf1 a:b\u00fccher.example.com -all'}],
    'nonascii-other.example.com': [{'TXT': 'caf\u00e9'}, {'TXT': 'v=spf1 -all'}],
    # pydns sends non-ASCII names as IDNA
    'xn--bcher-kva.example.com': [{'TXT': 'v=spf1 a:munich.example.com -all'}],
    'munich.example.com': [{'A': '192.0.2.10'}],
})

# (domain, ip): what we do differently on purpose, and why
DEVIATIONS = {}
for _ip in ('192.0.2.10', '2001:db8::10'):
    DEVIATIONS[('dupmod', _ip)] = (
        (('fail', 'SPF fail - not authorized'), ('permerror', 'foo= MUST appear at most once: foo=2')),
        'RFC 7208 6: only redirect= and exp= are limited to one; unknown modifiers are ignored')
    DEVIATIONS[('uredir', _ip)] = (
        (('pass', ''), ('neutral', '')),
        'modifier names are case-insensitive (RFC 7208 12); pyspf ignores REDIRECT=')
    DEVIATIONS[('digit0', _ip)] = (
        (('permerror', 'Unknown Macro Encountered: %{d0}'), ('fail', 'SPF fail - not authorized')),
        'RFC 7208 7.1: the DIGIT transformer MUST be nonzero')
    DEVIATIONS[('badtrans', _ip)] = (
        (('permerror', 'Unknown Macro Encountered: %{dx}'), ('fail', 'SPF fail - not authorized')),
        'RFC 7208 7.1: only digits, r and delimiters may follow the macro letter')

CASES = [(k, ip) for k in RECORDS for ip in ('192.0.2.10', '2001:db8::10')] + \
        [(k, '192.0.2.10') for k in ('twospf', 'nonascii', 'nonascii-other')] + \
        [('b\u00fccher', '192.0.2.10'), ('b\u00fccher', '192.0.2.11')] + \
        [('exp', '::ffff:192.0.2.99'), ('toomany', '192.0.2.99'), ('ptr', '192.0.2.99')]


def ours(dns, dom, ip):
    r = testlib.run([CHECK, 'check', '--ip', ip, '--sender', 'Joe.User@%s.example.com' % dom,
                     '--helo', 'mail.example.org', '--dns-server', dns.server,
                     '--dns-timeout-ms', '500', '--timeout', '20'], timeout=SLOW)
    lines = r.stdout.split('\n')
    res = lines[0]
    txt = lines[1] if len(lines) > 1 and res in ('fail', 'permerror', 'temperror') else ''
    return res, txt


def theirs(dns, dom, ip):
    DNS.defaults['server'] = ['127.0.0.1']
    DNS.defaults['port'] = dns.port
    q = spf.query(i=ip, s='Joe.User@%s.example.com' % dom, h='mail.example.org', timeout=0.5)
    res, _, exp = q.check()
    for pre in ('SPF Permanent Error: ', 'SPF Temporary Error: '):
        if exp.startswith(pre):
            exp = exp[len(pre):]
    if res not in ('fail', 'permerror', 'temperror'):
        exp = ''
    return res, exp


with testlib.Dnsd(zone=ZONE) as dns:
    for dom, ip in CASES:
        got, want = ours(dns, dom, ip), theirs(dns, dom, ip)
        name = '%s from %s' % (dom, ip)
        if (dom, ip) in DEVIATIONS:
            dev, why = DEVIATIONS[(dom, ip)]
            tap.is_((got, want), dev, '%s: known deviation (%s)' % (name, why))
        else:
            tap.is_(got, want, name)
            if os.environ.get("PSPF_SHOW"):
                tap.note("%s -> %r" % (name, got))
tap.done()
