# proto.py - helpers of the protocol tests (t/proto-*.t): start policyd-spf
# as a daemon on a free TCP port or a unix socket, or in spawn mode on a
# socketpair / a pipe pair; talk the Postfix policy protocol to it; and the
# scenarios every transport must pass.
#
# Requests use client_address=127.0.0.1 (in the default skip_addresses), so
# they need no DNS and get the X-Comment header, whose exact text is known
# (reference §5.3).  Every request carries its own instance, so none is a
# replay of another.

import os
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time

import testlib

TIMEOUT = 10


def request(i, extra=None, client='127.0.0.1'):
    """Request number i, as Postfix 3.7 sends it (RCPT state)."""
    attrs = [('request', 'smtpd_access_policy'), ('protocol_state', 'RCPT'),
             ('protocol_name', 'ESMTP'), ('client_address', client),
             ('client_name', 'localhost'), ('client_port', str(40000 + i % 20000)),
             ('reverse_client_name', 'localhost'), ('server_address', '127.0.0.1'),
             ('server_port', '25'), ('helo_name', 'h%d.example.org' % i),
             ('sender', 'Alice%d@Example.ORG' % i), ('recipient', 'bob@example.net'),
             ('recipient_count', '0'), ('queue_id', ''), ('instance', '%x.6b0ad1a9.70aee.0' % i),
             ('size', '0'), ('etrn_domain', ''), ('stress', ''), ('sasl_method', ''),
             ('sasl_username', ''), ('sasl_sender', ''), ('ccert_subject', ''),
             ('ccert_issuer', ''), ('ccert_fingerprint', ''), ('ccert_pubkey_fingerprint', ''),
             ('encryption_protocol', ''), ('encryption_cipher', ''), ('encryption_keysize', '0'),
             ('policy_context', '')]
    if extra:
        attrs += extra
    return ''.join('%s=%s\n' % kv for kv in attrs).encode() + b'\n'


def reply(i, receiver='example.net', client='127.0.0.1'):
    """The exact reply to request(i): the skip_addresses bypass header."""
    return ('action=prepend X-Comment: SPF check N/A for local connections - '
            'client-ip=%s; helo=h%d.example.org; envelope-from=alice%d@example.org; '
            'receiver=%s \n\n' % (client, i, i, receiver)).encode()


DUNNO = b'action=dunno\n\n'


def children(pid):
    """The pids of pid's child processes (a supervisor's workers), sorted."""
    out = []
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/stat' % d) as f:
                    st = f.read()
                if int(st.rsplit(')', 1)[1].split()[1]) == pid:
                    out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return sorted(out)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """policyd-spf in daemon mode, logging to stderr (--foreground).

    transport: 'tcp' (127.0.0.1, free port), 'tcp6' ([::1]), 'unix'.
    conf: text of the config file (written to a temp dir)."""

    def __init__(self, transport='tcp', conf='', args=(), ready_timeout=TIMEOUT,
                 binary=None, env=None):
        self.tmp = tempfile.mkdtemp(prefix='pspf-proto.')
        os.chmod(self.tmp, 0o755)   # the server drops root and re-reads on SIGHUP
        self.conf = os.path.join(self.tmp, 'policyd-spf.conf')
        self.write_conf(conf)
        self.transport = transport
        self.binary = binary or testlib.binary('policyd-spf')
        self.args = list(args)
        self.env = env
        self.lines = []
        self.lock = threading.Lock()
        self.proc = None
        for attempt in range(5):
            if transport == 'unix':
                self.path = os.path.join(self.tmp, 'policy.sock')
                self.listen = 'unix:' + self.path
            elif transport == 'tcp6':
                self.port = free_port()
                self.listen = 'inet:[::1]:%d' % self.port
            else:
                self.port = free_port()
                self.listen = 'inet:127.0.0.1:%d' % self.port
            if self._start(ready_timeout):
                break
            if transport == 'unix' or 'Address already in use' not in self.log_text():
                raise RuntimeError('policyd-spf did not start: %s' % self.log_text())
        else:
            raise RuntimeError('policyd-spf: no free port after 5 tries')
        testlib._live.append(self)

    def write_conf(self, text):
        with open(self.conf + '.new', 'w') as f:
            f.write(text)
        os.chmod(self.conf + '.new', 0o644)
        os.rename(self.conf + '.new', self.conf)

    def _start(self, ready_timeout):
        argv = [self.binary, '--foreground', '--listen', self.listen] + self.args + [self.conf]
        self.lines = []
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=self.env)
        self.pid = self.proc.pid
        self.reader = threading.Thread(target=self._read_logs, daemon=True)
        self.reader.start()
        return self.wait_log('listening on', ready_timeout) is not None

    def _read_logs(self):
        for raw in self.proc.stderr:
            with self.lock:
                self.lines.append(raw.decode('utf-8', 'replace').rstrip('\n'))

    def log_text(self):
        with self.lock:
            return '\n'.join(self.lines)

    def logs(self):
        with self.lock:
            return list(self.lines)

    def wait_log(self, needle, timeout=TIMEOUT, start=0):
        """First log line (from index start) containing needle, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for line in self.lines[start:]:
                    if needle in line:
                        return line
            if self.proc.poll() is not None:
                time.sleep(0.1)     # let the reader catch up
                with self.lock:
                    for line in self.lines[start:]:
                        if needle in line:
                            return line
                return None
            time.sleep(0.02)
        return None

    def connect(self, rcvbuf=None):
        if self.transport == 'unix':
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            addr = self.path
        elif self.transport == 'tcp6':
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            addr = ('::1', self.port)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            addr = ('127.0.0.1', self.port)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        # blocking connect: a unix socket with a full backlog would say EAGAIN
        s.connect(addr)
        if self.transport != 'unix':
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(TIMEOUT)
        return Client(s)

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def wait(self, timeout=TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self in testlib._live:
            testlib._live.remove(self)
        p = self.proc
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        try:
            for n in os.listdir(self.tmp):
                os.unlink(os.path.join(self.tmp, n))
            os.rmdir(self.tmp)
        except OSError:
            pass


class Spawn:
    """policyd-spf in spawn mode: its fds 0, 1 and 2 are one end of a
    socketpair, as spawn(8) gives them (pipe=True: stdin and stdout are two
    pipes instead, stderr is captured)."""

    def __init__(self, conf='', pipe=False, args=()):
        self.tmp = tempfile.mkdtemp(prefix='pspf-spawn.')
        self.conf = os.path.join(self.tmp, 'policyd-spf.conf')
        with open(self.conf, 'w') as f:
            f.write(conf)
        argv = [testlib.binary('policyd-spf')] + list(args) + [self.conf]
        self.pipe = pipe
        if pipe:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
            self.client = PipeClient(self.proc.stdin, self.proc.stdout)
        else:
            a, b = socket.socketpair()
            self.proc = subprocess.Popen(argv, stdin=b, stdout=b, stderr=b)
            b.close()
            a.settimeout(TIMEOUT)
            self.client = Client(a)
        testlib._live.append(self)

    def wait(self, timeout=TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self in testlib._live:
            testlib._live.remove(self)
        self.client.close()
        p = self.proc
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in (p.stdin, p.stdout, p.stderr):
            try:
                if f:
                    f.close()
            except Exception:
                pass
        try:
            for n in os.listdir(self.tmp):
                os.unlink(os.path.join(self.tmp, n))
            os.rmdir(self.tmp)
        except OSError:
            pass


class Client:
    """One policy connection; replies are read up to the empty line."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b''

    def send(self, data, chunk=None, pause=0.0):
        if chunk is None:
            self.s.sendall(data)
            return
        for i in range(0, len(data), chunk):
            self.s.sendall(data[i:i + chunk])
            if pause:
                time.sleep(pause)

    def _fill(self, timeout):
        self.s.settimeout(timeout)
        try:
            d = self.s.recv(65536)
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError):
            return b''
        return d

    def reply(self, timeout=TIMEOUT):
        """One reply (bytes up to and including the empty line); b'' at
        EOF with nothing pending, None on timeout."""
        deadline = time.monotonic() + timeout
        while b'\n\n' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            d = self._fill(left)
            if d is None:
                return None
            if not d:
                rest, self.buf = self.buf, b''
                return rest
            self.buf += d
        r, self.buf = self.buf.split(b'\n\n', 1)
        return r + b'\n\n'

    def eof(self, timeout=TIMEOUT):
        """True if the server closed the connection (no more bytes) in time."""
        deadline = time.monotonic() + timeout
        while True:
            if self.buf:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            d = self._fill(left)
            if d is None:
                return False
            if not d:
                return True
            self.buf += d

    def shutdown_write(self):
        self.s.shutdown(socket.SHUT_WR)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class PipeClient(Client):
    """The same over a pipe pair (spawn mode, pipe=True)."""

    def __init__(self, wfile, rfile):
        self.w = wfile
        self.r = rfile
        self.buf = b''

    def send(self, data, chunk=None, pause=0.0):
        step = chunk or len(data) or 1
        for i in range(0, len(data), step):
            self.w.write(data[i:i + step])
            self.w.flush()
            if pause:
                time.sleep(pause)

    def _fill(self, timeout):
        fd = self.r.fileno()
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return None
        return os.read(fd, 65536)

    def shutdown_write(self):
        self.w.close()

    def close(self):
        for f in (self.w, self.r):
            try:
                f.close()
            except Exception:
                pass


# ----------------------------------------------------------------- scenarios

def scenarios_one_connection(tap, open_client, label, closes_process=None):
    """The framing scenarios, each on a fresh connection from open_client()
    (a Client; for spawn a new process each time).  closes_process(client)
    is called after the scenario when the transport needs it (spawn)."""

    def done(c):
        if closes_process:
            closes_process(c)
        else:
            c.close()

    c = open_client()
    c.send(request(1))
    tap.is_(c.reply(), reply(1), '%s: one request, exact reply' % label)
    done(c)

    c = open_client()
    data = request(2)
    c.send(data[:7])
    time.sleep(0.05)
    c.send(data[7:300])
    time.sleep(0.05)
    c.send(data[300:])
    tap.is_(c.reply(), reply(2), '%s: request split in three writes' % label)
    done(c)

    c = open_client()
    c.send(request(3), chunk=1)
    tap.is_(c.reply(), reply(3), '%s: request in 1-byte writes' % label)
    c.send(request(4), chunk=1, pause=0.0005)
    tap.is_(c.reply(), reply(4), '%s: second request in paced 1-byte writes' % label)
    done(c)

    c = open_client()
    got = []
    for i in range(10, 60):
        c.send(request(i))
        got.append(c.reply())
    tap.ok(got == [reply(i) for i in range(10, 60)],
           '%s: 50 requests one after another on one connection' % label,
           diag=[g for g, i in zip(got, range(10, 60)) if g != reply(i)][:2])
    done(c)

    c = open_client()
    c.send(b''.join(request(i) for i in range(100, 140)))
    got = [c.reply() for i in range(100, 140)]
    tap.ok(got == [reply(i) for i in range(100, 140)],
           '%s: 40 pipelined requests answered in order' % label,
           diag=[g for g, i in zip(got, range(100, 140)) if g != reply(i)][:2])
    done(c)

    c = open_client()
    c.send(b'\n')
    tap.is_(c.reply(), DUNNO, '%s: a lone empty line is a request (no client_address): dunno'
            % label)
    c.send(b'   \t\n')
    tap.is_(c.reply(), DUNNO, '%s: a line of blanks ends a request too' % label)
    c.send(request(5).replace(b'\n', b'\r\n', 3))
    tap.is_(c.reply(), reply(5), '%s: CR before LF is stripped' % label)
    c.send(b'this line is garbage\n' + request(6))
    tap.is_(c.reply(), reply(6), '%s: a line without = is ignored' % label)
    c.send(request(7).replace(b'\nsender=', b'\n  sender  = ', 1))
    tap.is_(c.reply(), reply(7).replace(b'envelope-from=alice', b'envelope-from= alice'),
            '%s: blanks around the name dropped, leading blank of the value kept (Python)'
            % label)
    done(c)

    c = open_client()
    c.send(request(8) + b'client_address=127.0.0.1\nhelo_name=x\n')
    tap.is_(c.reply(), reply(8), '%s: complete request before EOF answered' % label)
    c.shutdown_write()
    tap.ok(c.eof(), '%s: EOF in the middle of a request: discarded, connection closed' % label)
    done(c)

    c = open_client()
    c.send(request(9) + b'helo_name=' + b'x' * 9000 + b'\n')
    tap.is_(c.reply(), reply(9), '%s: request before an oversized line still answered' % label)
    tap.ok(c.eof(), '%s: line over 8192 bytes: connection closed, no reply' % label)
    done(c)

    c = open_client()
    c.send(b'helo_name=' + b'y' * 20000)     # no LF at all
    tap.ok(c.eof(), '%s: 20000 bytes without LF: connection closed, no reply' % label)
    done(c)

    c = open_client()
    big = b''.join(b'x_attr=%s\n' % (b'z' * 4000) for _ in range(20))
    try:
        c.send(big + b'\n')
    except (BrokenPipeError, ConnectionResetError):
        pass
    tap.ok(c.eof(), '%s: request over 65536 bytes: connection closed, no reply' % label)
    done(c)

    c = open_client()
    many = b''.join(b'attr%d=v\n' % k for k in range(70))
    c.send(many + b'\n')
    tap.ok(c.eof(), '%s: more than 64 distinct attributes: connection closed, no reply'
           % label)
    done(c)


def rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return -1


def scenarios_daemon(tap, srv, label, idle_timeout):
    """Scenarios that need several connections to one daemon; the server's
    config must set Idle_Timeout = idle_timeout (a few seconds)."""

    # hundreds of concurrent connections, each with two requests
    n = 300
    clients = [srv.connect() for _ in range(n)]
    for k, c in enumerate(clients):
        c.send(request(1000 + k))
    got1 = [c.reply() for c in clients]
    for k, c in enumerate(clients):
        c.send(request(2000 + k), chunk=97)
    got2 = [c.reply() for c in clients]
    tap.ok(got1 == [reply(1000 + k) for k in range(n)] and
           got2 == [reply(2000 + k) for k in range(n)],
           '%s: %d concurrent connections, two requests each, exact replies' % (label, n),
           diag=[g for g, k in zip(got1 + got2, list(range(n)) * 2) if g not in
                 (reply(1000 + k), reply(2000 + k))][:2])
    for c in clients:
        c.close()

    # a client that never reads its replies (small receive window)
    hog = srv.connect(rcvbuf=4096)
    blob = b''.join(request(i) for i in range(200))
    sent = 0
    hog.s.setblocking(False)
    t_end = time.monotonic() + 20
    stalled = False
    while time.monotonic() < t_end and not stalled:
        try:
            sent += hog.s.send(blob)
        except BlockingIOError:
            # the server stopped reading once its queue and output were full
            stalled = True
            for _ in range(10):
                time.sleep(0.1)
                try:
                    sent += hog.s.send(blob)
                    stalled = False
                    break
                except BlockingIOError:
                    pass
        except (BrokenPipeError, ConnectionResetError):
            break
    tap.ok(stalled, '%s: a client that never reads is no longer read from (sent %d bytes)'
           % (label, sent))
    other = srv.connect()
    other.send(request(7000))
    tap.is_(other.reply(), reply(7000), '%s: other connections unaffected meanwhile' % label)
    other.close()
    rss = rss_kb(srv.pid)
    if os.environ.get('PSPF_ASAN'):
        # ASan's quarantine keeps freed memory: RSS says nothing there
        tap.ok(rss > 0, '%s: server alive (%d kB RSS; bound checked without ASan)' % (label, rss))
    else:
        tap.ok(0 < rss < 60000, '%s: server memory bounded (%d kB RSS)' % (label, rss))
    start = len(srv.logs())
    closed = srv.wait_log('client does not read its replies', idle_timeout + 15, start)
    tap.ok(closed is not None, '%s: non-reading client closed after Idle_Timeout' % label,
           diag=srv.log_text()[-2000:])
    hog.close()
    other = srv.connect()
    other.send(request(7001))
    tap.is_(other.reply(), reply(7001), '%s: new connections still fine' % label)
    other.close()

    # a client that goes silent: before and in the middle of a request
    quiet = srv.connect()
    half = srv.connect()
    half.send(b'client_address=127.0.0.1\nhelo_name=x\n')
    t0 = time.monotonic()
    q_eof = quiet.eof(idle_timeout + 5)
    h_eof = half.eof(idle_timeout + 5)
    took = time.monotonic() - t0
    tap.ok(q_eof and h_eof and took >= idle_timeout - 0.5,
           '%s: silent clients closed after Idle_Timeout (%.1f s, limit %d s)'
           % (label, took, idle_timeout))
    quiet.close()
    half.close()
