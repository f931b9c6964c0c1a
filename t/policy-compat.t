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
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib'))
import testlib     # noqa: E402
import policylib   # noqa: E402
import logcmp      # noqa: E402

PYSERVER = '/usr/bin/policyd-spf'


def inside():
    tap = testlib.Tap()
    if not os.access(PYSERVER, os.X_OK):
        tap.bail('%s missing (Debian postfix-policyd-spf-python)' % PYSERVER)
    tmp = tempfile.mkdtemp(prefix='pspf-compat.')
    os.chmod(tmp, 0o755)   # ours drops root privileges: Per_User files must be readable
    testlib.netns_resolver(tap, tmp)
    slog = logcmp.private_syslog(tap, tmp)
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
            slog.drain()
            cpath = os.path.join(tmp, 'policyd-spf.conf')   # the same path for both: it is logged
            prc, pyrep, pyerr = policylib.run_spawn([PYSERVER], conf, case['requests'],
                                                    timeout=case['timeout'], env=pyenv, path=cpath,
                                                    files=case['files'])
            pylog = slog.drain()
            tap.is_(pyrep, pywant, 'python: %s%s' % (name, ' (differs on purpose: %s)' % case['why']
                                                      if case['why'] else ''),
                    pyerr[-600:] if pyrep != pywant else None)
            if ours is None:
                continue
            # ours reads the same resolv.conf; DNS_Servers is not needed
            orc, orep, oerr = policylib.run_spawn(ours, conf, case['requests'],
                                                  timeout=case['timeout'] * timeout_mult, path=cpath,
                                                  files=case['files'])
            olog = slog.drain()
            if case['ours_log']:
                _, orest = logcmp.split_logs(olog)
                tap.is_([l for l in orest if l in case['ours_log']], list(case['ours_log']),
                        'ours logs: %s' % name, orest)
            if not case['why'] and not case.get('logs_differ'):
                stats = []
                oreads, orest = logcmp.split_logs(olog, stats)
                preads, prest = logcmp.split_logs(pylog)
                tap.is_(orest, prest, 'ours == python: log lines of %s' % name)
                tap.is_(oreads, preads, 'ours == python: input lines logged, %s' % name)
                # one stats line of ours for each SPF check Python reports at debugLevel >= 2
                pychecks = sum(1 for _, m in prest if m.startswith('spfcheck: pyspf result: '))
                tap.ok(len(stats) >= pychecks and (pychecks > 0 or not stats),
                       'ours: a DNS/cache stats line per SPF check: %s' % name,
                       '%d stats lines, Python reports %d checks' % (len(stats), pychecks))
            if case['why']:
                tap.is_(orep, want, 'ours: %s (intended difference)' % name, oerr[-600:])
            else:
                tap.is_(orep, pyrep, 'ours == python: %s' % name, oerr[-600:])
            tap.is_(orc, 0, 'ours exits 0: %s' % name, oerr[-600:])
    tap.done()


if __name__ == '__main__':
    if not testlib.in_private_netns():
        sys.exit(testlib.netns_reexec(__file__))
    inside()
