# ns.py - run the end-to-end test inside its own mount, network and PID
# namespaces, so that the private Postfix, OpenDMARC and the resolv.conf
# they read are invisible outside, and so that nothing the test starts can
# outlive it: when the namespace's init exits the kernel kills whatever is
# left in it.
#
# Process layout inside:  unshare -> PID 1 (a reaper: postfix master and
# other daemons are re-parented to it when they double-fork) -> the test.

import os
import shutil
import signal
import subprocess
import sys

ENV_FLAG = 'PSPF_E2E_NS'
_inside = False        # set in the test process inside the namespaces


def _bail(why):
    sys.stdout.write('Bail out! %s\n' % why)
    sys.stdout.flush()
    sys.exit(255)


def enter(script, argv):
    """Make sure we run inside the private namespaces; return in the test
    process.  Outside: re-exec under unshare.  As PID 1: fork the test and
    reap every child until it is done."""
    os.environ['PATH'] = os.environ.get('PATH', '/usr/bin:/bin') + ':/usr/sbin:/sbin'
    if os.environ.get(ENV_FLAG) != '1':
        if os.geteuid() != 0:
            _bail('the end-to-end test needs root (postfix(1), spawn(8), unshare)')
        for tool in ('unshare', 'ip', 'mount'):
            if not shutil.which(tool):
                _bail('missing %s (util-linux / iproute2)' % tool)
        probe = subprocess.run(['unshare', '--mount', '--net', '--pid', '--fork', 'true'],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if probe.returncode != 0:
            _bail('cannot create private namespaces: %s' %
                  probe.stdout.decode(errors='replace').strip())
        env = dict(os.environ)
        env[ENV_FLAG] = '1'
        sys.stdout.flush()
        os.execvpe('unshare', ['unshare', '--mount', '--net', '--pid', '--fork',
                               '--mount-proc', '--propagation', 'private',
                               '--kill-child=SIGKILL', '--',
                               sys.executable, script] + argv, env)
    if os.getpid() != 1:
        _bail('%s is set, but this is not a fresh PID namespace' % ENV_FLAG)
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    child = os.fork()
    if child == 0:
        global _inside
        _inside = True
        # SIGTERM/SIGHUP (a harness giving up) unwind through the test's
        # finally blocks, so it stops what it started in order.
        def leave(sig, _frame):
            # Once only: the signal may come twice (to the process group
            # and forwarded by PID 1), and must not cut the clean-up short.
            for other in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                signal.signal(other, signal.SIG_IGN)
            raise SystemExit(128 + sig)
        signal.signal(signal.SIGTERM, leave)
        signal.signal(signal.SIGHUP, leave)
        signal.signal(signal.SIGINT, leave)
        return
    _reap_until(child)


def _reap_until(child):
    def forward(sig, _frame):
        try:
            os.kill(child, sig)
        except OSError:
            pass
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    status = 1
    while True:
        try:
            pid, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            status = os.waitstatus_to_exitcode(st)
            if status < 0:
                status = 128 - status
            break
    sys.stdout.flush()
    # Leaving PID 1 makes the kernel SIGKILL anything still in the namespace.
    os._exit(status)


def private_resolv_conf(path, nameserver='127.0.0.1'):
    """Point /etc/resolv.conf (in this mount namespace only) at `nameserver`."""
    if not _inside:
        raise RuntimeError('refusing to touch /etc/resolv.conf outside the test namespace')
    with open(path, 'w') as f:
        f.write('nameserver %s\n' % nameserver)
    os.chmod(path, 0o644)
    bind(path, '/etc/resolv.conf')


def bind(src, dst):
    """Bind-mount src over dst, in this mount namespace only."""
    if not _inside:
        raise RuntimeError('refusing to mount over %s outside the test namespace' % dst)
    subprocess.run(['mount', '--bind', src, dst], check=True)
