#!/usr/bin/python3
# spf-libspf2.t - libspf2 as a second opinion.  Both RFC suites run
# through libspf2 ($PSPF_BUILD/tools/spf2check, Debian's libspf2) and
# through our engine (`policyd-spf check`) against the same t/dnsd.py;
# the tests on which the two result words differ must be exactly the
# known libspf2 deviations listed in t/spf2/known-deviations.txt.  A new
# disagreement fails, and so does a listed one that went away.
#
# libspf2 only uses the system resolver, so the script re-runs itself in
# a private network + mount namespace (unshare -n -m; -r added when not
# root) with lo up, /etc/resolv.conf bind-mounted to name 127.0.0.1, and
# dnsd on port 53 there.  The host's resolv.conf is never touched.
#
#   PSPF_SPF_CHECK="cmd"       our side's checker (default policyd-spf)
#   PSPF_LIBSPF2_GENERATE=1    rewrite known-deviations.txt from this run
#   PSPF_LIBSPF2_SOURCE=text   who "ours" was, for the file's header
#                              (keeping the reasons of ids already listed)

import os
import shlex
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib'))
import testlib   # noqa: E402
import spfsuite  # noqa: E402

KNOWN = os.path.join(HERE, 'spf2', 'known-deviations.txt')
DNS_TIMEOUT_MS = os.environ.get('PSPF_SUITE_DNS_TIMEOUT_MS', '500')



def load_known():
    known = {}
    if not os.path.exists(KNOWN):
        return known
    with open(KNOWN, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            tid, _, reason = line.partition(' ')
            known[tid] = reason.strip()
    return known


def write_known(rows, known, source):
    with open(KNOWN, 'w', encoding='utf-8') as f:
        f.write('# Known libspf2 1.2.10 deviations: tests of the RFC 7208/4408 suites on\n'
                '# which libspf2 and our side give different result words.\n'
                '# Our side when generated: %s.\n'
                '# One test id per line, then the reason.  t/spf-libspf2.t fails on\n'
                '# any disagreement not listed here and on any listed one that is\n'
                '# gone.  Regenerate: PSPF_LIBSPF2_GENERATE=1 prove t/spf-libspf2.t\n'
                % source)
        for tid, lib, ours, want, spec in rows:
            reason = known.get(tid) or 'libspf2 %s; ours %s; suite wants %s (spec %s)' % (
                lib, ours, want, spec)
            f.write('%s %s\n' % (tid, reason))


def inside():
    tap = testlib.Tap()
    t0 = time.monotonic()
    # Network namespace: only lo, brought up; resolv.conf -> 127.0.0.1.
    tmp = tempfile.mkdtemp(prefix='spf2ns.')
    testlib.netns_resolver(tap, tmp, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n')

    try:
        spf2 = [testlib.binary('tools/spf2check')]
        if os.environ.get('PSPF_SPF_CHECK'):
            ours_cmd = shlex.split(os.environ['PSPF_SPF_CHECK'])
        else:
            ours_cmd = [testlib.binary('policyd-spf')]
    except FileNotFoundError as e:
        tap.bail(str(e))
    timeout = 60 if os.environ.get('PSPF_ASAN') else 20
    lib_check = spfsuite.cli_check(spf2, timeout=timeout, dns_server=False)
    our_check = spfsuite.cli_check(ours_cmd, ['--dns-timeout-ms', DNS_TIMEOUT_MS], timeout=timeout)

    def both(t, dns):
        return lib_check(t, dns), our_check(t, dns)

    known = load_known()
    tap.ok(bool(known) or os.environ.get('PSPF_LIBSPF2_GENERATE'),
           'known deviations list %s is there' % os.path.relpath(KNOWN))
    rows = []
    seen = set()
    lib_right = {}
    ours_right = {}
    for name, path, count in spfsuite.SUITES:
        lib_right[name] = [0, 0]
        ours_right[name] = [0, 0]
        for t, (lo, oo) in spfsuite.run_suite(path, both, dnsd_args={'port': 53}):
            seen.add(t.id)
            lib_right[name][1] += 1
            ours_right[name][1] += 1
            if lo.result in t.results:
                lib_right[name][0] += 1
            if oo.result in t.results:
                ours_right[name][0] += 1
            if oo.result not in spfsuite.EXIT_OF:
                # Our side must give a result word, or nothing compares.
                tap.ok(False, t.id, 'our checker printed %r (status %r)\n$ %s\n%s' % (
                    oo.result, oo.status, spfsuite.shell_quote(oo.argv), oo.stderr.strip()[-2000:]))
                continue
            if lo.status is None or lo.status < 0:
                lib_word = 'crash(%s)' % ('timeout' if lo.status is None else 'signal %d' % -lo.status)
            elif lo.result in spfsuite.EXIT_OF or lo.result == 'invalid':
                lib_word = lo.result
            else:
                lib_word = 'nothing(status %d)' % lo.status
            if lib_word == 'invalid':
                # libspf2 left the result unset and returned an error code.
                errs = [l[len('spf2check: '):] for l in lo.stderr.splitlines() if l.startswith('spf2check: ')]
                if errs:
                    lib_word = 'invalid(%s)' % errs[-1]
            differ = lib_word != oo.result
            if differ:
                rows.append((t.id, lib_word, oo.result, ' or '.join(t.results), t.spec))
            listed = t.id in known
            if differ == listed:
                tap.ok(True, t.id + (' (known deviation)' if listed else ''))
            elif differ:
                tap.ok(False, t.id, 'new disagreement: libspf2 %s, ours %s (suite wants %s)\n$ %s' % (
                    lib_word, oo.result, ' or '.join(t.results), spfsuite.shell_quote(lo.argv)))
            else:
                tap.ok(False, t.id, 'listed as a libspf2 deviation (%s) but both now say %s' % (
                    known[t.id], oo.result))
    stale = sorted(set(known) - seen)
    tap.ok(not stale, 'every listed id is a suite test', '\n'.join(stale))

    if os.environ.get('PSPF_LIBSPF2_GENERATE'):
        src = os.environ.get('PSPF_LIBSPF2_SOURCE') or (
            'pyspf (t/tools/pyspf-check)' if 'pyspf' in ' '.join(ours_cmd) else 'our engine')
        write_known(rows, known, src)
        tap.diag('wrote %d deviations to %s' % (len(rows), KNOWN))
    for name in lib_right:
        tap.diag('%s: libspf2 right on %d of %d, our side on %d of %d; they differ on %d' % (
            name, lib_right[name][0], lib_right[name][1], ours_right[name][0], ours_right[name][1],
            sum(1 for r in rows if r[0].startswith(name + '/'))))
    tap.diag('our side: %s; %.1f s' % (' '.join(ours_cmd), time.monotonic() - t0))
    testlib.run(['umount', '/etc/resolv.conf'])
    try:
        os.unlink(os.path.join(tmp, 'resolv.conf'))
        os.rmdir(tmp)
    except OSError:
        pass
    tap.done()


if __name__ == '__main__':
    if not testlib.in_private_netns():
        sys.exit(testlib.netns_reexec(__file__))
    inside()
