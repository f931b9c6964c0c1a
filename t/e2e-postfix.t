#!/usr/bin/python3
# t/e2e-postfix.t - end to end: a real Postfix (Debian's package, private
# config and queue under a scratch directory, loopback ports only) uses
# policyd-spf as its check_policy_service, swaks presents client address and
# HELO through XCLIENT, t/dnsd.py serves the DNS data, and OpenDMARC runs as
# Postfix's milter the way docker-mailserver configures it.  Every scenario
# runs three times: policyd-spf as a spawn(8) service (for the main listener
# docker-mailserver's master.cf line verbatim, our binary and the test
# config bind-mounted where that line expects them), and as a daemon on a
# unix socket and on TCP.  Each asserts the SMTP replies a client sees and
# the headers of the message that reached the queue (held there, read with
# postcat).  `make e2e` runs it verbosely, `make e2e-python` runs it against
# the Python server, the reference.
#
# Runs inside private mount/network/PID namespaces (t/e2e/ns.py): OpenDMARC
# and the Python server read a resolv.conf that names the test DNS server,
# and nothing outside changes.
#
# Environment:
#   PSPF_BUILD        where our binary is (default build)
#   PSPF_E2E_SERVER   ours (default) | python: /usr/bin/policyd-spf, the
#                     reference; its daemon modes go through socat
#   PSPF_E2E_MODES    comma list of spawn,daemon-unix,daemon-inet (default all)
#   PSPF_E2E_KEEP     keep the scratch directory (logs, queue) for a look
#   PSPF_DNSD         the DNS server script (default t/dnsd.py)
#   PSPF_E2E_BUDGET   seconds after which remaining scenarios fail unrun (600)

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'e2e'))

import ns  # noqa: E402

ns.enter(os.path.abspath(__file__), sys.argv[1:])

import concurrent.futures  # noqa: E402
import shutil      # noqa: E402
import signal      # noqa: E402
import socket      # noqa: E402
import subprocess  # noqa: E402
import tempfile    # noqa: E402
import threading   # noqa: E402
import time        # noqa: E402
import traceback   # noqa: E402

from tap import Tap                                            # noqa: E402
from procs import Procs, StartError, free_port, wait_connectable  # noqa: E402
from postfix import Postfix                                    # noqa: E402
from smtp import swaks                                         # noqa: E402
import corpus                                                  # noqa: E402
import dmarc                                                   # noqa: E402

REPO = os.path.dirname(HERE)
SERVER = os.environ.get('PSPF_E2E_SERVER', 'ours')
MODES = [m for m in os.environ.get('PSPF_E2E_MODES', 'spawn,daemon-unix,daemon-inet').split(',') if m]
PYTHON_SERVER = '/usr/bin/policyd-spf'
DROPIN_BIN = '/usr/bin/policyd-spf'        # where master.cf lines expect it
DROPIN_CONF = '/etc/postfix-policyd-spf-python/policyd-spf.conf'
PY = '/usr/bin/python3'

MX = 'mx.test.example'
RCV = 'test.example'                 # receiver= is the recipient's domain
BOB = 'bob@test.example'
RCPT3 = ['bob@test.example', 'carol@test.example', 'dave@test.example']
GOOD4 = '192.0.2.10'                 # authorised by the zone's records
GOOD6 = '2001:db8::25'
BAD4 = '198.51.100.7'                # not authorised anywhere
SKIP4 = '198.51.100.200'             # in skip_addresses
HELO = 'mail.client.example'         # has no SPF record: HELO result None
URL = 'http://www.openspf.net/Why?s=%s;id=%s;ip=%s;r=%s'
DMS_REASON = 'Message {rejectdefer} due to: {spf}.'

t = Tap()


# -- what the user sees ------------------------------------------------------

def env_from(sender):
    """envelope-from= as the server under test writes it.  Both lower-case
    every request value (as Python does).  The Python server writes it
    bare; ours, when it contains '=', writes a quoted-string with each '='
    as a quoted-pair (OpenDMARC 1.4.2 misreads bare '=' in SRS and VERP
    addresses; Envelope_From_Escape, the policy issue)."""
    if sender == '':
        return '<>'
    sender = sender.lower()
    if SERVER == 'ours' and '=' in sender:
        return '"' + sender.replace('\\', '\\\\').replace('"', '\\"').replace('=', '\\=') + '"'
    return sender


def received_spf(result, ip, helo, sender, identity='mailfrom', comment='mailfrom'):
    return ('Received-SPF: %s (%s) identity=%s; client-ip=%s; helo=%s; envelope-from=%s; '
            'receiver=%s ' % (result, comment, identity, ip, helo, env_from(sender), RCV))


def x_comment(ip, helo, sender):
    return ('X-Comment: SPF check N/A for local connections - client-ip=%s; helo=%s; '
            'envelope-from=%s; receiver=%s ' % (ip, helo, sender, RCV))


def rcpt_reject(code, rejectdefer, reason, scope, ident, ip, rcpt=BOB, url=True):
    text = 'Message %s due to: %s.' % (rejectdefer, reason)
    if url:
        text += ' Please see ' + URL % (scope, ident, ip, RCV)
    return '%s <%s>: Recipient address rejected: %s' % (code, rcpt, text)


# -- configuration ------------------------------------------------------------

def policy_conf(dns_port, ours=None, **over):
    """A policyd-spf.conf: Debian's installed defaults, a short DNS budget
    (the timeout scenario waits it out), one more skip network."""
    if ours is None:
        ours = SERVER == 'ours'
    keys = [('debugLevel', '1'), ('TestOnly', '1'), ('HELO_reject', 'Fail'),
            ('Mail_From_reject', 'Fail'), ('PermError_reject', 'False'),
            ('TempError_Defer', 'False'),
            ('skip_addresses', '127.0.0.0/8,::ffff:127.0.0.0/104,::1,198.51.100.128/25'),
            ('Lookup_Time', '3')]
    if ours:
        keys.append(('DNS_Servers', '127.0.0.1:%d' % dns_port))
    d = dict(keys)
    d.update(over)
    return ''.join('%s = %s\n' % kv for kv in d.items())


# The differential corpus runs under each of these configurations (ours
# additionally gets DNS_Servers and Envelope_From_Escape = No).
DIFF_CONFIGS = [
    ('plain', {}),
    ('strict', {'HELO_reject': 'SPF_Not_Pass', 'Mail_From_reject': 'SPF_Not_Pass',
                'PermError_reject': 'True', 'Header_Type': 'AR', 'Authserv_Id': MX,
                'Hide_Receiver': 'Yes', 'SPF_Enhanced_Status_Codes': 'No'}),
]


def write(path, text, mode=0o644):
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)


class Env:
    """Everything the scenarios need: ports, files, processes."""

    def __init__(self, root):
        self.root = root
        self.procs = Procs(os.path.join(root, 'logs'))
        self.pf = None
        self.listeners = {}          # (mode, cfg) -> smtpd port
        self.daemons = {}            # (mode, cfg) -> Popen (daemon modes)
        self.confs = {}              # (mode, cfg) -> policyd-spf.conf path


def check_components():
    missing = []
    for tool in ('postfix', 'postcat', 'swaks', 'opendmarc'):
        if not shutil.which(tool):
            missing.append(tool)
    if SERVER == 'python':
        if not os.access(PYTHON_SERVER, os.X_OK):
            missing.append(PYTHON_SERVER + ' (postfix-policyd-spf-python)')
        if not shutil.which('socat'):
            missing.append('socat')
    elif SERVER != 'ours':
        missing.append('PSPF_E2E_SERVER must be "ours" or "python", not %r' % SERVER)
    if 'spawn' in MODES:
        # mount points of the drop-in spawn service (Debian's Python
        # package puts files there; we bind-mount over them, privately)
        for f in (DROPIN_BIN, DROPIN_CONF):
            if not os.path.isfile(f):
                missing.append(f + ' (postfix-policyd-spf-python: the drop-in mount point)')
    dnsd = os.environ.get('PSPF_DNSD', os.path.join(REPO, 't', 'dnsd.py'))
    if not os.path.exists(dnsd):
        missing.append(dnsd + ' (the test DNS server)')
    for user in ('postfix', 'policyd-spf', 'opendmarc'):
        if subprocess.run(['id', user], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            missing.append('user ' + user)
    for m in MODES:
        if m not in ('spawn', 'daemon-unix', 'daemon-inet'):
            missing.append('unknown mode %r in PSPF_E2E_MODES' % m)
    return dnsd, missing


def our_binary():
    # PSPF_BUILD as make passes it (relative to the top directory, where
    # make and prove run); unset: the top directory's build/.
    b = os.path.abspath(os.path.join(os.environ.get('PSPF_BUILD', os.path.join(REPO, 'build')),
                                     'policyd-spf'))
    if not os.access(b, os.X_OK):
        raise StartError('our binary %s is missing: run make first' % b)
    return b


def setup(env, dnsd):
    root = env.root
    for d in ('logs', 'conf', 'run', 'bin', 'dmarc'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    ns.private_resolv_conf(os.path.join(root, 'resolv.conf'))

    # Two DNS servers with the same zone: port 53 for what reads
    # resolv.conf (OpenDMARC, the Python server), a free port for ours,
    # which is told with DNS_Servers; each has its own query log.
    zone = os.path.join(HERE, 'e2e', 'zone.yml')
    env.dns53_log = os.path.join(root, 'logs', 'dns53.queries')
    env.dnsp_log = os.path.join(root, 'logs', 'dnsp.queries')
    env.procs.start_ready_line('dnsd53', [PY, dnsd, '--port', '53', '--zone', zone,
                                          '--log', env.dns53_log])
    line = env.procs.start_ready_line('dnsdp', [PY, dnsd, '--port', '0', '--zone', zone,
                                                '--log', env.dnsp_log])
    env.dns_port = int(line.split()[1]) if len(line.split()) > 1 else None
    if not env.dns_port:
        raise StartError('dnsd did not say which port it bound: %r' % line)

    if SERVER == 'ours':
        # spawn(8) runs the child as policyd-spf, which may not be able to
        # reach the build tree; run a copy of the same binary.
        env.binary = os.path.join(root, 'bin', 'policyd-spf')
        shutil.copy2(our_binary(), env.binary)
        os.chmod(env.binary, 0o755)
    else:
        env.binary = PYTHON_SERVER

    env.dmarc = dmarc.OpenDmarc(os.path.join(root, 'dmarc'), MX, env.procs)
    env.dmarc.start()

    pf = env.pf = Postfix(os.path.join(root, 'pf'))
    env.procs.on_stop('postfix', pf.stop)
    rr = 'reject_unauth_destination, check_policy_service %s, check_client_access static:HOLD'
    if SERVER == 'ours':
        # Side by side through the same Postfix: ours (Envelope_From_Escape
        # off: the one documented difference in these headers) and the
        # Python server (a copy of its script: /usr/bin/policyd-spf gets
        # our binary bind-mounted over it below).
        pyserver = os.path.join(root, 'bin', 'policyd-spf-python')
        shutil.copy2(PYTHON_SERVER, pyserver)
        for variant, over in DIFF_CONFIGS:
            for who, binary, conf_text in (
                    ('ours', env.binary, policy_conf(env.dns_port, ours=True,
                                                     Envelope_From_Escape='No', **over)),
                    ('python', pyserver, policy_conf(env.dns_port, ours=False, **over))):
                key = 'diff-%s-%s' % (variant, who)
                conf = os.path.join(root, 'conf', key + '.conf')
                write(conf, conf_text)
                svc = 'spf-' + key
                pf.add_master('%s unix - n n - 0 spawn\n  user=policyd-spf argv=%s %s'
                              % (svc, binary, conf))
                pf.add_main('%s_time_limit = 3600' % svc)
                param = 'pspf_rr_' + key.replace('-', '_')
                pf.add_main('%s = %s' % (param, rr % ('unix:private/' + svc)))
                port = free_port()
                pf.add_smtpd(port, {'smtpd_recipient_restrictions': '$' + param})
                env.listeners[(variant, who)] = port
    for mode in MODES:
        cfgs = ['default', 'defer', 'dms', 'ar'] + (['hup'] if mode != 'spawn' else [])
        for cfg in cfgs:
            key = '%s-%s' % (mode, cfg)
            conf = os.path.join(root, 'conf', key + '.conf')
            over = {}
            if cfg == 'defer':
                over['TempError_Defer'] = 'True'
            if cfg == 'dms':
                over['Reason_Message'] = DMS_REASON
            if cfg == 'ar':
                over['Header_Type'] = 'AR'
                over['Authserv_Id'] = MX
            write(conf, policy_conf(env.dns_port, **over))
            env.confs[(mode, cfg)] = conf
            endpoint = start_policy(env, mode, cfg, key, conf)
            param = 'pspf_rr_' + key.replace('-', '_')
            pf.add_main('%s = %s' % (param, rr % endpoint))
            port = free_port()
            o = {'smtpd_recipient_restrictions': '$' + param}
            if cfg in ('dms', 'ar'):
                o['smtpd_milters'] = 'inet:127.0.0.1:%d' % env.dmarc.port
            pf.add_smtpd(port, o)
            env.listeners[(mode, cfg)] = port
            if cfg == 'default':
                # The same service asked again in smtpd_data_restrictions
                # (some setups do): still one header per message.
                dparam = 'pspf_dr_' + key.replace('-', '_')
                pf.add_main('%s = check_policy_service %s' % (dparam, endpoint))
                port = free_port()
                pf.add_smtpd(port, {'smtpd_recipient_restrictions': '$' + param,
                                    'smtpd_data_restrictions': '$' + dparam})
                env.listeners[(mode, 'data')] = port
    pf.start()
    for (mode, cfg), port in env.listeners.items():
        wait_connectable(socket.AF_INET, ('127.0.0.1', port), name='smtpd %s-%s' % (mode, cfg))


def start_policy(env, mode, cfg, key, conf):
    """Start (or declare) the policy service; return the
    check_policy_service endpoint."""
    if mode == 'spawn' and cfg == 'default':
        # docker-mailserver's lines, verbatim: the drop-in case.  In this
        # mount namespace only, the binary under test and the test config
        # are bind-mounted where the Python package keeps its own.
        if env.binary != DROPIN_BIN:
            ns.bind(env.binary, DROPIN_BIN)
        ns.bind(conf, DROPIN_CONF)
        env.pf.add_master('policyd-spf unix - n n - 0 spawn\n'
                          '  user=policyd-spf argv=/usr/bin/policyd-spf')
        env.pf.add_main('policyd-spf_time_limit = 3600')
        return 'unix:private/policyd-spf'
    if mode == 'spawn':
        svc = 'spf-' + key
        env.pf.add_master('%s unix - n n - 0 spawn\n  user=policyd-spf argv=%s %s'
                          % (svc, env.binary, conf))
        env.pf.add_main('%s_time_limit = 3600' % svc)
        return 'unix:private/' + svc
    if mode == 'daemon-unix':
        sock = os.path.join(env.root, 'run', key + '.sock')
        if SERVER == 'ours':
            argv = [env.binary, '--foreground', '--listen', 'unix:' + sock, conf]
        else:
            argv = ['socat', 'UNIX-LISTEN:%s,fork,mode=0666' % sock,
                    'EXEC:%s %s' % (env.binary, conf)]
        p = env.procs.start('policyd-' + key, argv, umask=0)
        wait_connectable(socket.AF_UNIX, sock, proc=p, name='policyd-spf ' + key)
        env.daemons[(mode, cfg)] = p
        return 'unix:' + sock
    port = free_port()
    if SERVER == 'ours':
        argv = [env.binary, '--foreground', '--listen', 'inet:127.0.0.1:%d' % port, conf]
    else:
        argv = ['socat', 'TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork' % port,
                'EXEC:%s %s' % (env.binary, conf)]
    p = env.procs.start('policyd-' + key, argv)
    wait_connectable(socket.AF_INET, ('127.0.0.1', port), proc=p, name='policyd-spf ' + key)
    env.daemons[(mode, cfg)] = p
    return 'inet:127.0.0.1:%d' % port


# -- checks ---------------------------------------------------------------------

def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def read_from(path, offset):
    try:
        with open(path, errors='replace') as f:
            f.seek(offset)
            return f.read()
    except OSError:
        return ''


def transcript(s):
    return '$ ' + ' '.join(s.argv) + '\n' + s.out


def expect_rcpts(tag, s, rcpts, want):
    got = s.replies('RCPT TO:')
    return t.eq(got, [want] * len(rcpts) if isinstance(want, str) else want,
                '%s: RCPT replies' % tag) or t.diag(transcript(s))


def added_headers(env, tag, s):
    """The headers above Postfix's own Received: line of the queued
    message, or None (with a failed test) if it was not queued."""
    qid = s.queue_id()
    if not t.ok(qid, '%s: message queued (250 at end of DATA)' % tag,
                'end of DATA: %r\n%s' % (s.end_of_data(), transcript(s))):
        return None, None
    hdrs = env.pf.headers(qid)
    top = []
    for h in hdrs:
        if h.startswith('Received: '):
            break
        top.append(h)
    return top, hdrs


def accepted(env, tag, s, want_top, rcpts=(BOB,)):
    """RCPTs get 250, the message is queued, and exactly the wanted
    headers sit above Received:, with exactly one SPF header overall."""
    expect_rcpts(tag, s, rcpts, '250 2.1.5 Ok')
    top, hdrs = added_headers(env, tag, s)
    if top is None:
        return
    t.eq(top, want_top, '%s: headers added above Received:' % tag)
    spf = [h for h in hdrs if h.lower().startswith(('received-spf:', 'x-comment:'))]
    t.eq(len(spf), 1, '%s: exactly one SPF header in the message' % tag)


def rejected_at_rcpt(tag, s, want, rcpts=(BOB,)):
    expect_rcpts(tag, s, rcpts, want)
    t.ok(s.queue_id() is None, '%s: nothing queued' % tag, transcript(s))


# -- scenarios ------------------------------------------------------------------

# A policy server that hangs costs each session Postfix's policy timeout;
# past this budget the remaining scenarios fail at once instead.
BUDGET = float(os.environ.get('PSPF_E2E_BUDGET', '600'))
STARTED = time.time()


def guarded(name, fn, *args):
    """Run one scenario; an exception (a hung swaks, a missing queue
    file) fails that scenario and the run goes on with the next."""
    if time.time() - STARTED > BUDGET:
        t.ok(False, '%s: not run: the test is past its %ds budget (PSPF_E2E_BUDGET)'
             % (name, BUDGET))
        return
    try:
        fn(*args)
    except Exception:
        t.ok(False, '%s: ran to the end' % name, traceback.format_exc())


def sc_pass(env, mode, port, m):
    tag = m + ' pass'
    dns_before = file_size(env.dnsp_log)
    s = swaks(port, GOOD4, HELO, HELO, 'alice@pass.example', [BOB])
    accepted(env, tag, s, [received_spf('Pass', GOOD4, HELO, 'alice@pass.example')])
    if SERVER == 'ours':
        q = read_from(env.dnsp_log, dns_before)
        t.ok('pass.example TXT' in q, '%s: the TXT query went to DNS_Servers' % tag,
             'queries seen on 127.0.0.1:%d:\n%s' % (env.dns_port, q))


def sc_pass3(env, mode, port, m):
    tag = m + ' pass, three recipients'
    s = swaks(port, GOOD4, HELO, HELO, 'alice@pass.example', RCPT3)
    accepted(env, tag, s, [received_spf('Pass', GOOD4, HELO, 'alice@pass.example')], RCPT3)


def sc_fail(env, mode, port, m):
    tag = m + ' fail'
    s = swaks(port, BAD4, HELO, HELO, 'alice@fail.example', [BOB])
    rejected_at_rcpt(tag, s, rcpt_reject('550 5.7.23', 'rejected', 'SPF fail - not authorized',
                                         'mfrom', 'alice@fail.example', BAD4))
    tag = m + ' fail, docker-mailserver Reason_Message'
    s = swaks(env.listeners[(mode, 'dms')], BAD4, HELO, HELO, 'alice@fail.example', [BOB],
              headers=['From: <alice@fail.example>'])
    rejected_at_rcpt(tag, s, rcpt_reject('550 5.7.23', 'rejected', 'SPF fail - not authorized',
                                         None, None, None, url=False))


def sc_pass_rcpt_and_data(env, mode, port, m):
    tag = m + ' pass, two recipients, also asked at DATA'
    s = swaks(env.listeners[(mode, 'data')], GOOD4, HELO, HELO, 'alice@pass.example', RCPT3[:2])
    accepted(env, tag, s, [received_spf('Pass', GOOD4, HELO, 'alice@pass.example')], RCPT3[:2])
    t.eq(s.reply('DATA'), '354 End data with <CR><LF>.<CR><LF>', '%s: DATA reply' % tag)


def sc_other_results(env, mode, port, m):
    for result, dom in (('Softfail', 'softfail.example'), ('Neutral', 'neutral.example'),
                        ('None', 'none.example'), ('Permerror', 'permerror.example')):
        tag = '%s %s' % (m, result.lower())
        sender = 'alice@' + dom
        s = swaks(port, BAD4, HELO, HELO, sender, [BOB])
        accepted(env, tag, s, [received_spf(result, BAD4, HELO, sender)])


def sc_timeout(env, mode, port, m):
    tag = m + ' DNS timeout, TempError_Defer = False'
    t0 = time.time()
    s = swaks(port, BAD4, HELO, HELO, 'alice@timeout.example', [BOB])
    accepted(env, tag, s, [received_spf('Temperror', BAD4, HELO, 'alice@timeout.example')])
    t.diag('%s took %.1fs (Lookup_Time = 3)' % (tag, time.time() - t0))

    tag = m + ' DNS timeout, TempError_Defer = True'
    s = swaks(env.listeners[(mode, 'defer')], BAD4, HELO, HELO, 'alice@timeout.example', [BOB])
    rejected_at_rcpt(tag, s, rcpt_reject('450 4.7.24', 'deferred',
                                         'SPF Temporary Error: DNS Timeout', 'mfrom',
                                         'alice@timeout.example', BAD4))


def sc_skip(env, mode, port, m):
    tag = m + ' client in skip_addresses'
    b53, bp = file_size(env.dns53_log), file_size(env.dnsp_log)
    s = swaks(port, SKIP4, HELO, HELO, 'alice@skipped.example', [BOB])
    accepted(env, tag, s, [x_comment(SKIP4, HELO, 'alice@skipped.example')])
    q = read_from(env.dns53_log, b53) + read_from(env.dnsp_log, bp)
    t.eq(q, '', '%s: no DNS query at all' % tag)


def sc_null_sender(env, mode, port, m):
    tag = m + ' null sender, HELO fails'
    s = swaks(port, BAD4, 'badhelo.example', 'badhelo.example', '<>', [BOB])
    rejected_at_rcpt(tag, s, rcpt_reject('550 5.7.23', 'rejected', 'SPF fail - not authorized',
                                         'helo', 'badhelo.example', BAD4))


def sc_ipv6(env, mode, port, m):
    tag = m + ' IPv6 client passes'
    s = swaks(port, 'IPV6:' + GOOD6, HELO, HELO, 'alice@pass.example', [BOB])
    accepted(env, tag, s, [received_spf('Pass', GOOD6, HELO, 'alice@pass.example')])


def sc_odd_sender(env, mode, port, m):
    # A quoted local part with a space, '=' and ';': Postfix hands it over
    # unquoted; the header must stay one well-formed line.
    tag = m + ' quoted local part with space, = and ;'
    s = swaks(port, GOOD4, HELO, HELO, '"Odd Box=1;x"@pass.example', [BOB])
    accepted(env, tag, s, [received_spf('Pass', GOOD4, HELO, 'Odd Box=1;x@pass.example')])


def sc_slow_dns_no_stall(env, mode, port, m):
    # Four sessions wait on a DNS server that never answers (Lookup_Time =
    # 3); a fifth one, started while they wait, must be done before any of
    # them: a server that blocks on DNS would make it queue behind one.
    tag = m + ' slow DNS does not hold up other checks'
    slow = []

    def one():
        ss = swaks(port, BAD4, HELO, HELO, 'alice@timeout.example', [BOB])
        slow.append((time.time(), ss))
    threads = [threading.Thread(target=one) for _ in range(4)]
    t0 = time.time()
    for th in threads:
        th.start()
    time.sleep(0.7)
    s = swaks(port, GOOD4, HELO, HELO, 'alice@pass.example', [BOB])
    quick_end = time.time()
    for th in threads:
        th.join()
    accepted(env, tag + ', the quick one', s,
             [received_spf('Pass', GOOD4, HELO, 'alice@pass.example')])
    first_slow = min(e for e, _ in slow) if slow else quick_end
    t.ok(quick_end < first_slow,
         '%s: the quick one was done after %.1fs, before the first slow one (%.1fs)'
         % (tag, quick_end - t0, first_slow - t0))
    for i, (_, ss) in enumerate(slow):
        accepted(env, '%s, slow one %d' % (tag, i + 1), ss,
                 [received_spf('Temperror', BAD4, HELO, 'alice@timeout.example')])


SPF_SCENARIOS = [sc_pass, sc_pass3, sc_pass_rcpt_and_data, sc_fail, sc_other_results, sc_timeout, sc_skip,
                 sc_null_sender, sc_ipv6, sc_odd_sender, sc_slow_dns_no_stall]


def spf_scenarios(env, mode):
    port = env.listeners[(mode, 'default')]
    m = '[%s]' % mode
    for fn in SPF_SCENARIOS:
        guarded('%s %s' % (m, fn.__name__), fn, env, mode, port, m)


def sighup_scenario(env, mode):
    tag = '[%s] SIGHUP with a changed config' % mode
    if SERVER == 'python':
        t.skip(tag, 'the Python server has no daemon mode to reload (PSPF_E2E_SERVER=python)')
        return
    port = env.listeners[(mode, 'hup')]
    daemon = env.daemons[(mode, 'hup')]
    sender = 'alice@softfail.example'
    s = swaks(port, BAD4, HELO, HELO, sender, [BOB])
    accepted(env, tag + ', before', s, [received_spf('Softfail', BAD4, HELO, sender)])
    write(env.confs[(mode, 'hup')],
          policy_conf(env.dns_port, Mail_From_reject='Softfail', Reason_Message=DMS_REASON))
    os.kill(daemon.pid, signal.SIGHUP)
    time.sleep(1.0)
    t.ok(daemon.poll() is None, '%s: daemon still running after SIGHUP' % tag,
         'exit status %s' % daemon.poll())
    s = swaks(port, BAD4, HELO, HELO, sender, [BOB])
    rejected_at_rcpt(tag + ', after', s,
                     rcpt_reject('550 5.7.23', 'rejected',
                                 'domain owner discourages use of this host',
                                 None, None, None, url=False))


def dmarc_record(hist, before, tag):
    """The one HistoryFile block OpenDMARC wrote for the message just
    sent (blocks before it: `before`)."""
    new = hist.blocks()[before:]
    if not t.eq(len(new), 1, '%s: OpenDMARC recorded the message once' % tag):
        return {}
    return new[0]


def dmarc_ar_scenarios(env, mode):
    # Header_Type = AR with Authserv_Id = the host name OpenDMARC trusts:
    # it takes the SPF result from our Authentication-Results instead.
    port = env.listeners[(mode, 'ar')]
    m = '[%s] DMARC, Header_Type = AR' % mode
    hist = env.dmarc.history

    tag = m + ', aligned SPF pass'
    n = len(hist.blocks())
    s = swaks(port, GOOD4, HELO, HELO, 'alice@aligned.example', [BOB],
              headers=['From: Alice <alice@aligned.example>'])
    ours = ('Authentication-Results: %s; spf=pass (sender SPF authorized) '
            'smtp.mailfrom=aligned.example (client-ip=%s; helo=%s; '
            'envelope-from=alice@aligned.example; receiver=%s)' % (MX, GOOD4, HELO, RCV))
    dm = ('Authentication-Results: %s; dmarc=pass (p=reject dis=none) '
          'header.from=aligned.example' % MX)
    expect_rcpts(tag, s, [BOB], '250 2.1.5 Ok')
    top, _ = added_headers(env, tag, s)
    if top is not None:
        t.eq(top, [dm, ours], '%s: headers added above Received:' % tag)
    rec = dmarc_record(hist, n, tag)
    t.eq((rec.get('job'), rec.get('spf'), rec.get('align_spf')), (s.queue_id(), '0', '4'),
         '%s: OpenDMARC took the SPF pass from our header, aligned' % tag)

    tag = m + ', HELO-only pass, null sender'
    n = len(hist.blocks())
    s = swaks(port, GOOD4, 'helopass.example', 'helopass.example', '<>', [BOB],
              headers=['From: <postmaster@helopass.example>'])
    expect_rcpts(tag, s, [BOB], '250 2.1.5 Ok')
    t.eq(s.end_of_data(), '550 5.7.1 rejected by DMARC policy for helopass.example',
         '%s: rejected by OpenDMARC' % tag) or t.diag(transcript(s))
    # OpenDMARC records the AR header's spf=pass, but not as aligned:
    # align_spf 5 is DMARC_POLICY_SPF_ALIGNMENT_FAIL (4 is PASS).
    rec = dmarc_record(hist, n, tag)
    t.eq((rec.get('mfrom'), rec.get('align_spf')), ('', '5'),
         '%s: OpenDMARC did not align the HELO pass' % tag)


def dmarc_scenarios(env, mode):
    port = env.listeners[(mode, 'dms')]
    m = '[%s] DMARC' % mode
    hist = env.dmarc.history

    def ar(domain):
        return 'Authentication-Results: %s; dmarc=pass (p=reject dis=none) header.from=%s' % (
            MX, domain)

    tag = m + ' aligned SPF pass'
    n = len(hist.blocks())
    s = swaks(port, GOOD4, HELO, HELO, 'alice@aligned.example', [BOB],
              headers=['From: Alice <alice@aligned.example>'])
    accepted(env, tag, s, [ar('aligned.example'),
                           received_spf('Pass', GOOD4, HELO, 'alice@aligned.example')])
    rec = dmarc_record(hist, n, tag)
    t.eq((rec.get('job'), rec.get('spf'), rec.get('align_spf')), (s.queue_id(), '0', '4'),
         '%s: OpenDMARC took the SPF pass from our header, aligned' % tag)

    tag = m + ' p=reject, SPF softfail, no DKIM'
    n = len(hist.blocks())
    s = swaks(port, BAD4, HELO, HELO, 'alice@dmsoft.example', [BOB],
              headers=['From: Alice <alice@dmsoft.example>'])
    expect_rcpts(tag, s, [BOB], '250 2.1.5 Ok')
    t.eq(s.end_of_data(), '550 5.7.1 rejected by DMARC policy for dmsoft.example',
         '%s: rejected by OpenDMARC at end of DATA' % tag) or t.diag(transcript(s))
    t.eq(dmarc_record(hist, n, tag).get('spf'), '2', '%s: OpenDMARC took SPF softfail' % tag)

    # CVE-2019-20790: a pass for the HELO identity must never count as the
    # MAIL FROM result: neither for the null sender nor when MAIL FROM has
    # no SPF record (then the HELO header is the one prepended).
    for sender, frm in (('<>', 'postmaster@helopass.example'),
                        ('alice@nospf.example', 'alice@nospf.example')):
        dom = frm.split('@')[1]
        tag = '%s HELO-only pass, MAIL FROM %s' % (m, sender)
        # Without the milter: the header OpenDMARC gets is a HELO pass.
        s = swaks(env.listeners[(mode, 'default')], GOOD4, 'helopass.example',
                  'helopass.example', sender, [BOB], headers=['From: <%s>' % frm])
        accepted(env, tag + ' (no milter)', s,
                 [received_spf('Pass', GOOD4, 'helopass.example', sender, identity='helo',
                               comment='sender SPF authorized')])
        n = len(hist.blocks())
        s = swaks(port, GOOD4, 'helopass.example', 'helopass.example', sender, [BOB],
                  headers=['From: <%s>' % frm])
        expect_rcpts(tag, s, [BOB], '250 2.1.5 Ok')
        t.eq(s.end_of_data(), '550 5.7.1 rejected by DMARC policy for ' + dom,
             '%s: rejected by OpenDMARC' % tag) or t.diag(transcript(s))
        rec = dmarc_record(hist, n, tag)
        t.ok(rec.get('spf') not in (None, '0'),
             '%s: OpenDMARC did not take the HELO pass' % tag, repr(rec))

    # SRS and VERP senders: '=' in the local part.  The long ones have an
    # earlier '='-separated part longer than the last, which OpenDMARC
    # 1.4.2 misparses unless the '=' signs are escaped.
    cases = [('SRS0=HHH=TT=orig.example=alice@forwarder.example', 'forwarder.example', False),
             ('SRS0=HHH=TT=a-very-long-original-domain.example=al@forwarder.example',
              'forwarder.example', True),
             ('bounces+12345-abcd-user=example.org@mail.forwarder.example',
              'forwarder.example', False),
             ('bounces+12345-abcdefghijklmnopqrstuvwxyz-user=example.org@mail.forwarder.example',
              'forwarder.example', True)]
    for sender, frm_dom, long_part in cases:
        tag = '%s SPF pass for %s' % (m, sender)
        todo = None
        if long_part and SERVER == 'python':
            todo = "the Python server writes '=' bare; OpenDMARC 1.4.2 misreads it"
        n = len(hist.blocks())
        s = swaks(port, GOOD4, HELO, HELO, sender, [BOB],
                  headers=['From: <news@%s>' % frm_dom])
        expect_rcpts(tag, s, [BOB], '250 2.1.5 Ok')
        eod = s.end_of_data() or ''
        if not t.ok(eod.startswith('250 '), '%s: accepted by OpenDMARC' % tag,
                    'end of DATA: %r' % eod, todo=todo):
            continue
        top, _ = added_headers(env, tag, s)
        if top is not None:
            t.eq(top, [ar(frm_dom), received_spf('Pass', GOOD4, HELO, sender)],
                 '%s: headers added above Received:' % tag)
        rec = dmarc_record(hist, n, tag)
        t.eq((rec.get('job'), rec.get('spf'), rec.get('align_spf')), (s.queue_id(), '0', '4'),
             '%s: OpenDMARC took the SPF pass from our header, aligned' % tag)


def outcome(env, s):
    """What a client and the queue saw, without the parts that differ
    between two runs (queue ids, dates); (outcome, failed-checks text)."""
    qid = s.queue_id()
    if qid is None:
        return {'rcpt': s.replies('RCPT TO:'), 'data': s.end_of_data()}
    hdrs = env.pf.headers(qid)
    top = []
    for h in hdrs:
        if h.startswith('Received: '):
            break
        top.append(h)
    return {'rcpt': s.replies('RCPT TO:'), 'data': 'queued', 'headers': top}


def diff_scenarios(env):
    if SERVER != 'ours':
        t.skip('[diff] ours against the Python server', 'PSPF_E2E_SERVER=python')
        return
    jobs = [(variant, i, who) for variant, _ in DIFF_CONFIGS
            for i in range(len(corpus.SESSIONS)) for who in ('ours', 'python')]

    def run(job):
        variant, i, who = job
        desc, addr, helo, sender, rcpts = corpus.SESSIONS[i]
        if time.time() - STARTED > BUDGET:
            return {'error': 'not run: the test is past its budget', 'who': who}
        name = helo.rstrip('.') if not helo.startswith('[') else 'unknown'
        try:
            s = swaks(env.listeners[(variant, who)], addr, name, helo, sender, rcpts)
            return outcome(env, s)
        except Exception:
            return {'error': traceback.format_exc()}
    # Independent sessions: four at a time keeps the run short.
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(jobs, pool.map(run, jobs)))
    for variant, _ in DIFF_CONFIGS:
        for i, sess in enumerate(corpus.SESSIONS):
            desc = sess[0]
            t.eq(results[(variant, i, 'ours')], results[(variant, i, 'python')],
                 '[diff, %s] %s: same replies and headers as Python' % (variant, desc),
                 todo=corpus.KNOWN.get(desc))


def main():
    os.environ['PATH'] = os.environ.get('PATH', '/usr/bin:/bin') + ':/usr/sbin:/sbin'
    dnsd, missing = check_components()
    if missing:
        t.bail('missing components: ' + ', '.join(missing))
        return 255
    t.diag('policy server: %s; modes: %s' % (SERVER, ', '.join(MODES)))
    root = tempfile.mkdtemp(prefix='pspf-e2e-')
    os.chmod(root, 0o755)          # spawned policyd-spf must reach its config
    env = Env(root)
    status = 1
    try:
        t0 = time.time()
        setup(env, dnsd)
        t.diag('set-up took %.1fs' % (time.time() - t0))
        for mode in MODES:
            t0 = time.time()
            spf_scenarios(env, mode)
            if mode != 'spawn':
                guarded('[%s] sighup' % mode, sighup_scenario, env, mode)
            guarded('[%s] dmarc' % mode, dmarc_scenarios, env, mode)
            guarded('[%s] dmarc, AR' % mode, dmarc_ar_scenarios, env, mode)
            t.diag('[%s] took %.1fs' % (mode, time.time() - t0))
            for (mm, cfg), p in env.daemons.items():
                if mm == mode:
                    t.ok(p.poll() is None, '[%s] policyd-spf (%s) still running' % (mode, cfg),
                         'exit status %s; log %s' % (p.poll(), os.path.join(
                             root, 'logs', 'policyd-%s-%s.log' % (mode, cfg))))
        # Protocol trouble that a retry hides (stray bytes, a dying spawn
        # child, a late reply) shows only as a warning in Postfix's log.
        bad = [l for l in env.pf.log().splitlines()
               if re.search(r'\b(warning|error|fatal|panic):', l)]
        t.eq(bad, [], 'no warning, error, fatal or panic in the Postfix log')
        if SERVER == 'ours':
            # Ours was told DNS_Servers; only OpenDMARC reads resolv.conf.
            other = [l for l in read_from(env.dns53_log, 0).splitlines()
                     if not l.startswith('listening ') and ' _dmarc.' not in l]
            t.eq(other, [], 'policyd-spf sent no query to the resolv.conf server')
        # Last: the Python server in it reads resolv.conf.
        t0 = time.time()
        guarded('[diff]', diff_scenarios, env)
        t.diag('[diff] took %.1fs' % (time.time() - t0))
        status = 0
    except StartError as e:
        t.ok(False, 'set-up: ' + str(e).splitlines()[0], str(e))
    except Exception:
        t.ok(False, 'the test itself did not crash', traceback.format_exc())
    finally:
        notes = env.procs.stop_all()
        for n in notes:
            t.diag('stop: ' + n)
        if t.failed or status:
            if env.pf:
                log = env.pf.log()
                t.diag('last lines of the Postfix log (%s):' % env.pf.maillog)
                t.diag('\n'.join(log.splitlines()[-40:]))
            for name in sorted(os.listdir(os.path.join(root, 'logs'))):
                if name.startswith('policyd-') or name in ('opendmarc.log',):
                    txt = read_from(os.path.join(root, 'logs', name), 0)
                    if txt.strip():
                        t.diag('--- %s:\n%s' % (name, '\n'.join(txt.splitlines()[-20:])))
        if os.environ.get('PSPF_E2E_KEEP'):
            t.diag('kept ' + root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    return t.done()


if __name__ == '__main__':
    sys.exit(main())
