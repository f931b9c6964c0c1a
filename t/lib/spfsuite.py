# spfsuite.py - the RFC 7208 / RFC 4408 test suites (Debian python3-spf)
# as data, and running one checker over all of them with each scenario's
# zone served by t/dnsd.py.
#
# A test's fields map to a check as pyspf's testspf.py maps them:
#   host -> client IP, mailfrom -> MAIL FROM (empty: the HELO identity is
#   checked as postmaster@helo), helo -> HELO name, result -> one result
#   or a list of acceptable ones, explanation -> the fail explanation, with
#   the default explanation set to "DEFAULT".  (`strict` only tunes pyspf.)
# A scenario's SPF records are served as TXT too where the name has no TXT
# entry, as the suite drivers do (dnsd's suite mode).

import concurrent.futures
import gzip
import os
import re

import yaml

import testlib

SUITES = [
    ('rfc7208', '/usr/share/doc/python3-spf/rfc7208-tests.yml.gz', 203),
    ('rfc4408', '/usr/share/doc/python3-spf/rfc4408-tests.yml.gz', 191),
]
RESULTS = ['pass', 'fail', 'softfail', 'neutral', 'none', 'permerror', 'temperror']
EXIT_OF = {r: i for i, r in enumerate(RESULTS)}
DEFAULT_EXPLANATION = 'DEFAULT'
LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def slug(text):
    return re.sub(r'[^a-z0-9]+', '-', str(text).lower()).strip('-')


class SuiteTest:
    def __init__(self, suite, index, scenario, name, data):
        self.suite = suite
        self.scenario_index = index
        self.scenario = scenario
        self.name = name
        self.id = '%s/%s/%s' % (suite, slug(scenario), name)
        self.host = str(data['host'])
        self.mailfrom = str(data.get('mailfrom') or '')
        self.helo = str(data.get('helo') or '')
        res = data['result']
        self.results = [res] if isinstance(res, str) else list(res)
        self.explanation = data.get('explanation')
        self.spec = data.get('spec')


def load(path):
    """[(scenario index, description, [SuiteTest])] of one suite file."""
    name = os.path.basename(path).split('-')[0]
    with gzip.open(path, 'rb') if path.endswith('.gz') else open(path, 'rb') as f:
        docs = [d for d in yaml.load_all(f, Loader=LOADER) if d]
    out = []
    for i, d in enumerate(docs):
        desc = d.get('description', 'scenario-%d' % i)
        tests = [SuiteTest(name, i, desc, t, v) for t, v in d.get('tests', {}).items()]
        out.append((i, desc, tests))
    return out


def run_suite(path, check, workers=3, scenarios_at_once=3, dnsd_args=None):
    """Run check(test, server) -> outcome for every test of the suite
    file, each scenario with its own zone: one dnsd serves every scenario
    on a port of its own (server.server is that scenario's HOST:PORT);
    tests of a scenario run in parallel and several scenarios at once (the
    checks mostly wait: on process start, on DNS, on TIMEOUT silences).
    Yields (test, outcome) in suite order.  dnsd_args with a fixed 'port'
    (libspf2 asks port 53 only) runs one dnsd per scenario instead, one
    scenario at a time."""
    scenarios = load(path)
    dnsd_args = dict(dnsd_args or {})
    if dnsd_args.get('port'):
        # A fixed port (libspf2 can only ask port 53): one scenario at a time.
        def one(item):
            idx, _desc, tests = item
            with testlib.Dnsd(suite=path, scenario=idx, **dnsd_args) as dns:
                with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
                    return list(zip(tests, ex.map(lambda t: check(t, dns), tests)))
        for item in scenarios:
            for pair in one(item):
                yield pair
        return

    # One server process for the whole file, each scenario on its own port.
    with testlib.Dnsd(suite=path, scenario='all', **dnsd_args) as dns:
        if len(dns.ports) != len(scenarios):
            raise RuntimeError('dnsd serves %d scenarios, the file has %d' %
                               (len(dns.ports), len(scenarios)))

        def one_view(item):
            idx, _desc, tests = item
            view = ScenarioServer(dns, dns.ports[idx])
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
                return list(zip(tests, ex.map(lambda t: check(t, view), tests)))

        with concurrent.futures.ThreadPoolExecutor(max_workers=scenarios_at_once) as ex:
            for results in ex.map(one_view, scenarios):
                for pair in results:
                    yield pair


class ScenarioServer:
    """One scenario's port of a dnsd serving a whole suite file."""

    def __init__(self, dnsd, port):
        self.dnsd = dnsd
        self.port = port
        self.addr = dnsd.addr
        self.server = '%s:%d' % (dnsd.addr, port)


class Outcome:
    def __init__(self, result, explanation, status, stderr, argv):
        self.result = result
        self.explanation = explanation
        self.status = status
        self.stderr = stderr
        self.argv = argv


def cli_check(cmd, extra=(), timeout=20, dns_server=True):
    """A check function running `CMD check ...` (the policyd-spf command
    line contract) and reading its output.  dns_server=False: the checker
    finds the server itself (libspf2 through /etc/resolv.conf)."""
    def check(t, dns):
        argv = list(cmd) + ['check', '--ip', t.host, '--sender', t.mailfrom, '--helo', t.helo,
                            '--default-explanation', DEFAULT_EXPLANATION] + list(extra)
        if dns_server:
            argv += ['--dns-server', dns.server]
        r = testlib.run(argv, timeout=timeout)
        lines = r.stdout.split('\n')
        return Outcome(lines[0] if lines else '', lines[1] if len(lines) > 1 else '',
                       r.returncode, r.stderr, argv)
    return check


def verdict(t, o):
    """(ok, why) for one outcome against the suite's expectation."""
    why = []
    if o.result not in t.results:
        why.append('result %r, suite wants %s' % (o.result, ' or '.join(t.results)))
    if o.result in EXIT_OF and o.status != EXIT_OF[o.result]:
        why.append('exit status %r for %s, want %d' % (o.status, o.result, EXIT_OF[o.result]))
    if t.explanation is not None and o.result == 'fail' and o.explanation != t.explanation:
        why.append('explanation %r, want %r' % (o.explanation, t.explanation))
    return not why, '; '.join(why)


def shell_quote(argv):
    return ' '.join("'" + a.replace("'", "'\\''") + "'" if re.search(r'[^\w@%+=:,./-]', a) or not a
                    else a for a in argv)
