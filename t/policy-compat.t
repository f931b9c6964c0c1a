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
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib'))
import testlib     # noqa: E402
import policylib   # noqa: E402

PYSERVER = '/usr/bin/policyd-spf'


def outside():
    argv = ['unshare', '-n', '-m']
    if os.geteuid() != 0:
        argv.append('-r')
    argv += ['--', testlib.PYTHON, os.path.abspath(__file__)]
    env = dict(os.environ, PSPF_IN_NETNS='1')
    try:
        r = subprocess.run(argv, env=env)
    except OSError as e:
        print('1..1\nnot ok 1 - cannot run unshare: %s' % e, flush=True)
        return 1
    if r.returncode < 0:
        print('# namespace child died of signal %d' % -r.returncode, flush=True)
        return 1
    return r.returncode


def inside():
    tap = testlib.Tap()
    if not os.access(PYSERVER, os.X_OK):
        tap.bail('%s missing (Debian postfix-policyd-spf-python)' % PYSERVER)
    r = testlib.run(['ip', 'link', 'set', 'lo', 'up'])
    if r.returncode != 0:
        tap.bail('ip link set lo up: %s' % r.stderr.strip())
    tmp = tempfile.mkdtemp(prefix='pspf-compat.')
    rc = os.path.join(tmp, 'resolv.conf')
    with open(rc, 'w') as f:
        f.write('nameserver 127.0.0.1\n')
    r = testlib.run(['mount', '--bind', rc, '/etc/resolv.conf'])
    if r.returncode != 0:
        tap.bail('mount --bind resolv.conf: %s' % r.stderr.strip())
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
            prc, pyrep, pyerr = policylib.run_spawn([PYSERVER], conf, case['requests'],
                                                    timeout=case['timeout'], env=pyenv)
            tap.is_(pyrep, pywant, 'python: %s%s' % (name, ' (differs on purpose: %s)' % case['why']
                                                      if case['why'] else ''),
                    pyerr[-600:] if pyrep != pywant else None)
            if ours is None:
                continue
            # ours reads the same resolv.conf; DNS_Servers is not needed
            orc, orep, oerr = policylib.run_spawn(ours, conf, case['requests'],
                                                  timeout=case['timeout'] * timeout_mult)
            if case['why']:
                tap.is_(orep, want, 'ours: %s (intended difference)' % name, oerr[-600:])
            else:
                tap.is_(orep, pyrep, 'ours == python: %s' % name, oerr[-600:])
            tap.is_(orc, 0, 'ours exits 0: %s' % name, oerr[-600:])
    tap.done()


if __name__ == '__main__':
    if os.environ.get('PSPF_IN_NETNS') != '1':
        sys.exit(outside())
    inside()
