#!/usr/bin/python3
# policy-random.t - seeded random differential test: for each seed,
# t/lib/randcompat.py draws a zone, a policyd-spf.conf and a sequence of
# requests; the Python policyd-spf and ours answer them in spawn mode
# against the same t/dnsd.py, and the replies are compared byte for byte.
# Differences documented in policyd-spf.conf(5) DIFFERENCES pass (named in
# the output), a Python crash (pypolicyd-spf.md 9.1) requires ours to answer
# every request with one well-formed action line, known bugs of ours are
# TAP TODO, anything else fails.
#
# Like t/policy-compat.t the script re-runs itself in private network and
# mount namespaces (unshare -n -m): lo up, a bind-mounted resolv.conf
# naming 127.0.0.1, dnsd on 127.0.0.1:53 (the Python server only reads
# /etc/resolv.conf).
#
#   PSPF_RANDOM_SEEDS=1-500     seeds to run (default: the fixed set below)
#   PSPF_RANDOM_VERBOSE=1       print every case's classification
#   PSPF_RANDOM_JOBS=N          cases run in parallel (default 4)
#   PSPF_RANDOM_LOGS=0          do not compare the syslog lines (compared by
#                               default where debugLevel <= 2 and the replies agree)
import concurrent.futures
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib'))
import testlib      # noqa: E402
import randcompat   # noqa: E402
import logcmp       # noqa: E402

DEFAULT_SEEDS = '1-100'



def inside():
    tap = testlib.Tap()
    if not os.access(randcompat.PYSERVER, os.X_OK):
        tap.bail('%s missing (Debian postfix-policyd-spf-python)' % randcompat.PYSERVER)
    try:
        ours = [testlib.binary('policyd-spf')]
    except FileNotFoundError as e:
        tap.bail(str(e))
    tmp = tempfile.mkdtemp(prefix='pspf-random.')
    testlib.netns_resolver(tap, tmp)
    # syslog is not compared here; keep both servers' lines off the host's log
    r = testlib.run(['mount', '-t', 'tmpfs', 'tmpfs', '/dev/shm'])
    syslog = None
    if os.environ.get('PSPF_RANDOM_LOGS', '1') != '0':
        syslog = logcmp.private_syslog(tap, tmp)
    seeds = randcompat.parse_seeds(os.environ.get('PSPF_RANDOM_SEEDS', DEFAULT_SEEDS))
    verbose = os.environ.get('PSPF_RANDOM_VERBOSE')
    jobs = int(os.environ.get('PSPF_RANDOM_JOBS', '4'))
    mult = 3 if os.environ.get('PSPF_ASAN') or 'asan' in testlib.build_dir() else 1
    cases = [randcompat.Case(s) for s in seeds]
    counts = {}
    shapes = {}
    t0 = time.monotonic()
    with testlib.Dnsd(zone=randcompat.merged_zone(cases), port=53):
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            futs = [ex.submit(randcompat.run_case, c, ours, mult, syslog) for c in cases]
            for c, fut in zip(cases, futs):
                res, problems = fut.result()
                kinds = [x['kind'] for x in res]
                for k in kinds:
                    counts[k] = counts.get(k, 0) + 1
                for x in res:
                    if x['i'] < 0:
                        continue
                    sh = randcompat.shape(x['py']) if x['py'] else 'python crash'
                    shapes[sh] = shapes.get(sh, 0) + 1
                bugs = [x for x in res if x['kind'] in ('bug', 'logdiff')]
                known = [x for x in res if x['kind'] == 'known']
                name = 'seed %d: %d requests, %s' % (c.seed, len(c.requests), ' '.join(kinds))
                diag = None
                if bugs or problems or verbose:
                    diag = c.describe() + '\n' + '\n'.join(
                        'request %d %s%s\n  python: %r\n  ours:   %r' % (
                            x['i'], x['kind'], ' (%s)' % x['why'] if x['why'] else '', x['py'], x['ours'])
                        for x in res if x['kind'] != 'same') + ('\nproblems: %s' % problems if problems else '')
                tap.ok(not bugs and not problems, name, diag if (bugs or problems) else None)
                if verbose and diag and not (bugs or problems):
                    tap.diag(diag)
                for x in known:
                    # a known, written-up bug of ours: shown, not failing
                    tap.n += 1
                    print('not ok %d - seed %d request %d: known bug %s # TODO not fixed yet' % (
                        tap.n, c.seed, x['i'], x['why']), flush=True)
                    tap.diag('python: %r\nours:   %r' % (x['py'], x['ours']))
    tap.diag('%d seeds in %.1f s: %s' % (len(cases), time.monotonic() - t0,
                                         ', '.join('%s %d' % kv for kv in sorted(counts.items()))))
    tap.diag('python replies: ' + ', '.join('%s %d' % kv for kv in sorted(shapes.items())))
    tap.done()


if __name__ == '__main__':
    if not testlib.in_private_netns():
        sys.exit(testlib.netns_reexec(__file__))
    inside()
