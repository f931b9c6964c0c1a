# procs.py - every long-running process the end-to-end test starts goes
# through here, so that one call stops them all, in reverse order, also
# when the test dies half-way.

import os
import signal
import socket
import subprocess
import time


class StartError(Exception):
    pass


class Procs:
    def __init__(self, logdir):
        self.logdir = logdir
        self.procs = []          # (name, Popen)
        self.stoppers = []       # (name, callable) for daemons that fork away

    def start(self, name, argv, env=None, umask=None):
        log = open(os.path.join(self.logdir, name + '.log'), 'ab')

        def pre():
            os.setsid()
            if umask is not None:
                os.umask(umask)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             env=env, preexec_fn=pre)
        log.close()
        self.procs.append((name, p))
        return p

    def start_ready_line(self, name, argv, word='ready', timeout=20):
        """Start a program that prints `word ...` on stdout once it serves;
        return that line."""
        log = open(os.path.join(self.logdir, name + '.log'), 'ab')
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=log, preexec_fn=os.setsid)
        log.close()
        self.procs.append((name, p))
        deadline = time.time() + timeout
        line = b''
        os.set_blocking(p.stdout.fileno(), False)
        while time.time() < deadline:
            try:
                chunk = os.read(p.stdout.fileno(), 4096)
            except BlockingIOError:
                chunk = None
            if chunk:
                line += chunk
                if b'\n' in line:
                    first = line.split(b'\n')[0].decode(errors='replace')
                    if first.split()[:1] == [word]:
                        return first
                    raise StartError('%s printed %r, not %r' % (name, first, word))
            elif chunk == b'' or p.poll() is not None:
                raise StartError('%s exited (status %s) before it was ready; see %s.log'
                                 % (name, p.poll(), name))
            time.sleep(0.02)
        raise StartError('%s not ready after %ds' % (name, timeout))

    def on_stop(self, name, fn):
        self.stoppers.append((name, fn))

    def alive(self, p):
        return p.poll() is None

    def stop_all(self, grace=5.0):
        """Stop everything; returns a list of complaints (never raises)."""
        notes = []
        for name, fn in reversed(self.stoppers):
            try:
                fn()
            except Exception as e:          # keep stopping the rest
                notes.append('%s: %s' % (name, e))
        self.stoppers = []
        for name, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except OSError:
                    p.terminate()
        deadline = time.time() + grace
        for name, p in reversed(self.procs):
            left = max(0.0, deadline - time.time())
            try:
                p.wait(left)
            except subprocess.TimeoutExpired:
                notes.append('%s ignored SIGTERM; killed' % name)
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    p.kill()
                p.wait()
            if p.stdout:
                p.stdout.close()
        self.procs = []
        return notes


def free_port():
    """A free TCP port on 127.0.0.1 (the namespace is private, but keep the
    habit: never assume a number)."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_connectable(family, addr, timeout=15, proc=None, name='server'):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StartError('%s exited with status %s before accepting connections'
                             % (name, proc.returncode))
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.connect(addr)
            return
        except OSError as e:
            last = e
        finally:
            s.close()
        time.sleep(0.05)
    raise StartError('%s: nothing accepts connections on %r after %ds (%s)'
                     % (name, addr, timeout, last))
