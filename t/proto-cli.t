#!/usr/bin/python3
# The command line: -h/--help/-? as the Python server (usage on stdout,
# exit 1), --version, --check-config with file and line, bad options.
import os, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib

tap = testlib.Tap()
bin_ = testlib.binary('policyd-spf')
for opt in ('-h', '--help', '-?'):
    r = testlib.run([bin_, opt])
    tap.is_((r.returncode, r.stdout.splitlines()[0] if r.stdout else ''),
            (1, 'usage: policyd-spf [<configfilename>]'), '%s: Python usage line, exit 1' % opt)
r = testlib.run([bin_, '--version'])
tap.ok(r.returncode == 0 and r.stdout.startswith('policyd-spf '), '--version')
r = testlib.run([bin_, '--no-such-option'])
tap.ok(r.returncode == 1 and 'unknown option' in r.stderr, 'unknown option: exit 1',
       diag=r.stderr)

tmp = tempfile.mkdtemp(prefix='pspf-cli.')
good = os.path.join(tmp, 'good.conf')
bad = os.path.join(tmp, 'bad.conf')
with open(good, 'w') as f:
    f.write('debugLevel = 1\nListen = inet:127.0.0.1:10023, unix:/tmp/x.sock\n')
with open(bad, 'w') as f:
    f.write('# comment\ndebugLevel = yes\nListen = inet:[::1\nUser = no-such-user-x\n'
            'Lookup_Time = 2.5\n')
r = testlib.run([bin_, '--check-config', good])
tap.is_(r.returncode, 0, '--check-config: good file, exit 0')
tap.ok(good + ': OK' in r.stdout, '--check-config: says OK', diag=r.stdout + r.stderr)
r = testlib.run([bin_, '--check-config', bad])
tap.is_(r.returncode, 1, '--check-config: broken file, exit 1')
tap.ok('%s:2:' % bad in r.stdout, '--check-config: bad integer with its line', diag=r.stdout)
tap.ok('%s:5:' % bad in r.stdout, '--check-config: every problem reported', diag=r.stdout)
r2 = testlib.run([bin_, '--check-config', '--listen', 'inet:[::1', good])
tap.is_(r2.returncode, 1, '--check-config: bad --listen, exit 1')
r = testlib.run([bin_, bad], timeout=10)
tap.is_(r.returncode, 1, 'start with a broken config: exit 1')
tap.ok('%s:2' % bad in r.stderr, 'start with a broken config: file and line on stderr',
       diag=r.stderr)
r = testlib.run([bin_, '--listen', 'inet:127.0.0.1:1', '--dns-server', 'not-an-address', good],
                timeout=10)
tap.ok(r.returncode == 1 and 'not-an-address' in r.stderr, 'bad --dns-server: exit 1 at start',
       diag=r.stderr)
r = testlib.run([bin_, '--check-config', '--dns-server', 'not-an-address', good])
tap.ok(r.returncode == 1 and '--dns-server:' in r.stdout, '--check-config: bad --dns-server',
       diag=r.stdout)
r = testlib.run([bin_, good, '--check-config'])
tap.is_(r.returncode, 0, 'options after the config file are taken too')
for p in (good, bad):
    os.unlink(p)
os.rmdir(tmp)
tap.done()
