#!/usr/bin/python3
# Framing against the Python server itself: the same byte streams (odd
# whitespace, CRLF, garbage lines, blank-line terminators, invalid UTF-8,
# upper case, repeated names, '=' in values, EOF mid-request) fed to
# /usr/bin/policyd-spf and to ours in spawn mode on a pipe; the outputs
# must be identical byte for byte.  Requests come from 127.0.0.1
# (skip_addresses) or have no client_address, so no DNS is involved.
import os, subprocess, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib

tap = testlib.Tap()
PY = '/usr/bin/policyd-spf'
if not os.access(PY, os.X_OK):
    tap.ok(False, '%s missing (apt-get install postfix-policyd-spf-python)' % PY)
    tap.done()
ours = testlib.binary('policyd-spf')
tmp = tempfile.mkdtemp(prefix='pspf-compat.')
os.chmod(tmp, 0o755)
conf = os.path.join(tmp, 'policyd-spf.conf')
with open(conf, 'w') as f:
    f.write('debugLevel = 1\n')
os.chmod(conf, 0o644)


def req(n, **kw):
    a = [('request', 'smtpd_access_policy'), ('protocol_state', 'RCPT'),
         ('client_address', '127.0.0.1'), ('helo_name', 'mx%d.example.org' % n),
         ('sender', 'alice@example.org'), ('recipient', 'bob@example.net'),
         ('instance', 'i%d' % n)]
    for k, v in kw.items():
        a = [(x, v if x == k else y) for x, y in a]
    return b''.join(b'%s=%s\n' % (k.encode(), v.encode() if isinstance(v, str) else v)
                    for k, v in a) + b'\n'


cases = [
    ('plain request', req(1)),
    ('two requests', req(1) + req(2)),
    ('CRLF lines', req(3).replace(b'\n', b'\r\n')),
    ('garbage line inside', req(4).replace(b'sender=', b'garbage here\nsender=')),
    ('lone empty lines', b'\n\n\n'),
    ('blank-only terminators', req(5)[:-1] + b'   \n' + req(6)[:-1] + b'\t\x0b\x0c\n' +
     req(7)[:-1] + b'\x1c\n' + req(8)[:-1] + b'\xc2\xa0\n'),
    ('blanks around names, leading blank of values', b'  helo_name  = x.example\n'
     b'\tclient_address=127.0.0.1\nsender= alice@example.org\ninstance=j1\n\n'),
    ('upper case values', req(9, helo_name='MX.Example.ORG', sender='Alice@EXAMPLE.org',
                              recipient='Bob@Example.NET')),
    ('repeated names, last wins', req(10)[:-1] + b'helo_name=second.example\n\n'),
    ('invalid UTF-8', req(11, helo_name=b'mx\xff\xfe.example', sender=b'a\xe2\x82@example.org')),
    ('non-ASCII upper case', req(12, sender='\u00c4lice\u0416@Example.org',
                                 helo_name='\u00dcber.example')),
    ('= in values', req(13, sender='a=b=c@example.org')),
    ('trailing blanks stripped', req(14)[:-1].replace(b'example.org\n', b'example.org   \n') + b'\n'),
    ('EOF in the middle of a request', req(15) + b'client_address=127.0.0.1\nhelo_name=x'),
    ('only garbage lines', b'foo\nbar baz\n=x\n\n'),
    ('same instance twice', req(16) + req(16)),
    ('no helo_name, no sender', b'client_address=127.0.0.1\ninstance=k1\n\n'),
    ('unicode line separator in a value', req(17, helo_name='a\u2028b.example')),
]

for name, data in cases:
    py = subprocess.run([PY, conf], input=data, capture_output=True, timeout=30)
    us = subprocess.run([ours, conf], input=data, capture_output=True, timeout=30)
    tap.ok(py.stdout == us.stdout and us.returncode == 0 and py.returncode == 0,
           name, diag='python (%s): %r\nours   (%s): %r' % (py.returncode, py.stdout,
                                                          us.returncode, us.stdout))
os.unlink(conf)
os.rmdir(tmp)
tap.done()
