#!/usr/bin/python3
# spf-suite.t - the whole RFC 7208 (203 tests) and RFC 4408 (191 tests)
# suites of Debian's python3-spf through `policyd-spf check`, every
# scenario's zone served by t/dnsd.py over real sockets.  One TAP line per
# suite test, named rfc7208/<scenario>/<test>; a test passes when the
# result word is one the suite accepts, the exit status matches the word,
# and, for fail, the explanation (line 2) equals the suite's where given.
#
# PSPF_SPF_CHECK="cmd args" replaces the checker (e.g. t/tools/pyspf-check,
# the pyspf oracle, to check this harness).  PSPF_SUITE_ONLY=regex limits
# the run to matching test ids while debugging (the plan then shrinks and
# the test says so: never set in make check).  PSPF_SUITE_DNS_TIMEOUT_MS
# (default 500) is passed as --dns-timeout-ms, so TIMEOUT entries stay cheap.

import os
import re
import shlex
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib   # noqa: E402
import spfsuite  # noqa: E402

# A TIMEOUT entry must cost about a second, not the 20 s default; 500 ms per
# try leaves room for a loaded machine (make check runs beside other work).
DNS_TIMEOUT_MS = os.environ.get('PSPF_SUITE_DNS_TIMEOUT_MS', '500')

tap = testlib.Tap()
t0 = time.monotonic()

if os.environ.get('PSPF_SPF_CHECK'):
    cmd = shlex.split(os.environ['PSPF_SPF_CHECK'])
else:
    try:
        cmd = [testlib.binary('policyd-spf')]
    except FileNotFoundError as e:
        tap.bail(str(e))
only = re.compile(os.environ['PSPF_SUITE_ONLY']) if os.environ.get('PSPF_SUITE_ONLY') else None
# The sanitizer build is several times slower; give it room.
per_check_timeout = 60 if os.environ.get('PSPF_ASAN') else 20
check = spfsuite.cli_check(cmd, ['--dns-timeout-ms', DNS_TIMEOUT_MS], timeout=per_check_timeout)

summary = []
for name, path, count in spfsuite.SUITES:
    if not os.path.exists(path):
        tap.bail('%s missing: install python3-spf (scripts/deps.sh test)' % path)
    ntests = sum(len(tests) for _, _, tests in spfsuite.load(path))
    if only is None:
        tap.is_(ntests, count, '%s: the suite file holds %d tests' % (name, count))

    def wanted(t):
        return only is None or only.search(t.id)

    def run_one(t, dns):
        if not wanted(t):
            return None
        return check(t, dns)

    passed = failed = 0
    for t, o in spfsuite.run_suite(path, run_one):
        if o is None:
            continue
        ok, why = spfsuite.verdict(t, o)
        diag = None
        if not ok:
            diag = '%s\n$ %s\nstdout: %r\nstatus: %r' % (
                why, spfsuite.shell_quote(o.argv),
                o.result + ('\n' + o.explanation if o.explanation else ''), o.status)
            err = o.stderr.strip()
            if err:
                diag += '\nstderr:\n' + '\n'.join(err.splitlines()[-40:])
        tap.ok(ok, t.id, diag)
        if ok:
            passed += 1
        else:
            failed += 1
    summary.append('%s: %d of %d passed%s' % (name, passed, passed + failed,
                                               '' if only is None else ' (PSPF_SUITE_ONLY set)'))

if only is not None:
    tap.ok(False, 'PSPF_SUITE_ONLY=%s: partial run, not a verdict' % only.pattern)
tap.diag('checker: %s' % ' '.join(cmd))
for line in summary:
    tap.diag(line)
tap.diag('%.1f s' % (time.monotonic() - t0))
tap.done()
