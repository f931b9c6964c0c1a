#!/usr/bin/python3
# policy-conf.t - our config reader against the Python one: the same file
# must give the same settings and the same log lines (and stop start-up in
# the same cases).  Debian's shipped file, the commented sample, and every
# lexical case of reference §2.1 (long lines, indented lines, ';', '#',
# '=', CR/CRLF line ends, duplicates, unknown and wrongly-cased keys, empty
# values, Python int() forms, Mock = False, missing file, directory, bad
# UTF-8).  Both sides are real programs: build/tools/confdump (lib/conf.c)
# and t/tools/pyconfdump.py (spf_engine.policydspfsupp).
import gzip
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib  # noqa: E402

tap = testlib.Tap()
TOP = testlib.TOP
CONFDUMP = testlib.binary('tools/confdump')
PYDUMP = os.path.join(TOP, 't', 'tools', 'pyconfdump.py')
for f in (CONFDUMP, PYDUMP, '/usr/lib/python3/dist-packages/spf_engine/policydspfsupp.py'):
    if not os.path.exists(f):
        tap.bail('missing %s' % f)

tmp = tempfile.mkdtemp(prefix='pspf-conf-')


def logs(text, ours):
    out = []
    for line in text.splitlines():
        if ours:
            m = re.match(r'^policyd-spf\[\d+\]: (.*)$', line)
            if m:
                out.append(m.group(1))
        else:
            m = re.match(r'^LOG \d+ (.*)$', line)
            if m:
                out.append(m.group(1))
    return out


# Intended differences (policyd-spf.conf(5), DIFFERENCES):
#  - our own keys (Listen, DNS_Servers, ...) are ours, so we do not log
#    them as unknown;
#  - integers beyond the range of a C int are clamped (tested in
#    t/unit/test_conf.c), so the cases here stay in range.
OURS = ('Listen', 'DNS_Servers', 'DNS_Timeout', 'DNS_Tries', 'Socket_Mode', 'Socket_Owner',
        'User', 'Group', 'Workers', 'Log_Destination', 'Max_Connections', 'Idle_Timeout',
        'Request_Timeout', 'DNS_Cache_Size', 'Envelope_From_Escape', 'NAT_Warning_Interval',
        'SERVFAIL_Is_Temperror')


def short(s):
    return s if len(s) < 2000 else s[:1000] + '...[%d bytes]...' % len(s) + s[-500:]


def compare(name, path):
    env = dict(os.environ, LC_ALL='C.UTF-8')
    py = subprocess.run([PYDUMP, path], capture_output=True, env=env)
    us = subprocess.run([CONFDUMP, path], capture_output=True, env=env)
    pyout = py.stdout.decode('utf-8', 'replace')
    usout = us.stdout.decode('utf-8', 'replace')
    pylog = [l for l in logs(py.stderr.decode('utf-8', 'replace'), False)
             if not any(l.startswith('ERROR: Unknown name "%s" in' % k) for k in OURS)]
    uslog = logs(us.stderr.decode('utf-8', 'replace'), True)
    tap.is_(us.returncode, py.returncode, '%s: same start-up outcome (exit %d)' % (name, py.returncode))
    if py.returncode == 0:
        tap.ok(usout == pyout, '%s: same settings' % name,
               'ours:\n%s\npython:\n%s' % (short(usout), short(pyout)))
    else:
        tap.ok(usout.startswith('ERROR %s:' % path), '%s: error names the file and line' % name, usout)
    tap.is_(uslog, pylog, '%s: same log lines' % name)


def case(name, content, binary=False):
    path = os.path.join(tmp, re.sub(r'\W+', '_', name) + '.conf')
    with open(path, 'wb') as f:
        f.write(content if binary else content.encode('utf-8'))
    compare(name, path)


# Debian's shipped files, as installed
compare('Debian shipped policyd-spf.conf', '/etc/postfix-policyd-spf-python/policyd-spf.conf')
with gzip.open('/usr/share/doc/postfix-policyd-spf-python/policyd-spf.conf.commented.gz') as f:
    case('Debian policyd-spf.conf.commented', f.read(), binary=True)
compare('our etc/policyd-spf.conf', os.path.join(TOP, 'etc', 'policyd-spf.conf'))

long_list = ','.join('10.%d.0.0/16' % i for i in range(60))
case('long line (> 200 bytes, inih cuts at 200)', 'Whitelist = %s\nHELO_reject = Softfail\n' % long_list)
case('very long line (1 MB)', 'Reason_Message = %s {spf}\n' % ('x' * 1000000))
case('indented line is not a continuation', 'Reason_Message = a\n    HELO_reject = Softfail\n\tMail_From_reject = False\n')
case('semicolon in value kept', 'Reason_Message = SPF {spf} ; see {url}\nHELO_pass_restriction = a;b ;c\n')
case('semicolon at start of line', '; HELO_reject = Softfail\n;Mail_From_reject=False\n')
case('hash mid-value cuts', 'Reason_Message = Rejected {spf}#{url}\nHELO_reject = False#comment\n#Mail_From_reject = False\n')
case('equals in value drops the line', 'Reason_Message = a=b {spf}\nHELO_reject = x = y\nPermError_reject == True\n')
case('duplicate key: last wins', 'HELO_reject = Softfail\nHELO_reject = SPF_Not_Pass\ndebugLevel = 2\ndebugLevel = 3\n')
case('unknown key logged and skipped', 'Frobnicate = yes\nQueueID = False\nListen = inet:127.0.0.1:10023\nDNS_Servers = 127.0.0.1:5353\n')
case('wrong case key', 'helo_reject = Softfail\nAuthserv-Id = x\nDEBUGLEVEL = 3\n')
case('empty value', 'HELO_reject =\nPermError_reject = \nWhitelist=\nskip_addresses =\n')
case('line without =', 'HELO_reject Softfail\njust words\n')
case('int forms', 'debugLevel = +0_0_3\nTestOnly = -0\nLookup_Time = 007\nVoid_Limit = -2147483648\nWhitelist_Lookup_Time = 2_147_483_647\nUMask = 1_0\n')
case('bad integer', 'HELO_reject = Softfail\ndebugLevel = yes\nTestOnly = 0\n')
case('bad integer with quote', "Void_Limit = it's\n")
case('bad integer underscore', 'Lookup_Time = 1__0\n')
case('bad integer empty', 'Whitelist_Lookup_Time =\n')
case('bad integer float', 'debugLevel = 2.5\n')
case('bad integer octal', 'UMask = 0o07\n')
case('Mock = False is on', 'Mock = False\nIntHosts = False\n')
case('Mock empty is off', 'Mock =\n')
case('CR line ends', 'HELO_reject = Softfail\rMail_From_reject = False\r')
case('CRLF line ends', 'HELO_reject = Softfail\r\nMail_From_reject = False\r\n')
case('unicode whitespace stripped', '\u00a0HELO_reject\u2003=\u3000Softfail\u00a0\nReason_Message = \u00e9t\u00e9 {spf}\n')
case('BOM is part of the first name', '\ufeffdebugLevel = 3\nTestOnly = 0\n')
case('milter keys accepted', 'Socket = inet:1234@localhost\nPidFile = /x\nUserID = u\nUMask = 022\nInternalHosts = 10.0.0.0/8\nMacroList = a,b\nIntHosts = yes\n')
case('tabs and blanks', '\t debugLevel\t=\t4 \t\n')
case('no final newline', 'HELO_reject = Null')
case('Authserv_Id HOSTNAME', 'Authserv_Id = HOSTNAME\nHeader_Type = AR\n')
case('Authserv_Id literal', 'Authserv_Id = mx.Example.NET\n')
case('invalid UTF-8', b'HELO_reject = Softfail\nReason_Message = \xff\n', binary=True)
compare('missing file', os.path.join(tmp, 'does-not-exist.conf'))
compare('directory', tmp)

tap.done()
