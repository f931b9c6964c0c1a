#!/usr/bin/python3
# fuzz-regress.t - every fuzz target (t/fuzz/fuzz_X.c, built with
# t/fuzz/driver.c into $PSPF_BUILD/fuzz-regress/fuzz_X by mk/suite.mk)
# replays its kept inputs: t/fuzz/corpus/fuzz_X/ (or corpus/X/),
# t/fuzz/regress/fuzz_X/ and any t/fuzz/crashes/fuzz_X-* (a crash found by
# `make fuzz` fails here until it is fixed and moved to regress/).  Under
# the ASan build (make check's second run) the sanitizers watch it.
# One TAP line per target; a target with no kept inputs still runs the
# empty input, and is named in a diagnostic.

import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib'))
import testlib  # noqa: E402

tap = testlib.Tap()
fuzz = os.path.join(HERE, 'fuzz')
targets = sorted(os.path.basename(p)[:-2] for p in glob.glob(os.path.join(fuzz, 'fuzz_*.c')))
tap.ok(len(targets) > 0, 'there are fuzz targets (%s)' % ' '.join(targets))

timeout = 600 if os.environ.get('PSPF_ASAN') else 120
for t in targets:
    short = t[len('fuzz_'):]
    inputs = []
    for d in ('corpus/' + t, 'corpus/' + short, 'regress/' + t, 'regress/' + short):
        p = os.path.join(fuzz, d)
        if os.path.isdir(p):
            inputs.append(p)
    crashes = sorted(glob.glob(os.path.join(fuzz, 'crashes', t + '-*')))
    inputs += crashes
    try:
        binpath = testlib.binary('fuzz-regress/' + t)
    except FileNotFoundError as e:
        tap.ok(False, '%s: replay kept inputs' % t, str(e))
        continue
    r = testlib.run([binpath] + inputs, timeout=timeout)
    runs = [l[4:] for l in r.stdout.splitlines() if l.startswith('run ')]
    done = r.stdout.rstrip().endswith('done')
    diag = None
    if r.returncode != 0 or not done:
        err = r.stderr.strip().splitlines()
        # The sanitizer's report head says what and where; the shadow map does not.
        start = next((i for i, l in enumerate(err) if 'ERROR:' in l or 'runtime error:' in l), None)
        shown = err[start:start + 25] if start is not None else err[-30:]
        diag = 'exit %r; last input started: %s\n%s' % (
            r.returncode, runs[-1] if runs else '?', '\n'.join(shown))
    if len(runs) <= 1:
        tap.diag('%s: no kept inputs (add seeds to t/fuzz/corpus/%s/)' % (t, t))
    tap.ok(r.returncode == 0 and done,
           '%s: %d inputs replayed (%d kept crashes)' % (t, len(runs), len(crashes)), diag)

tap.done()
