# policylib.py - shared pieces of t/policy.t and t/policy-compat.t: the
# test zone, the table of cases (config lines, requests, the exact reply
# lines expected), and running a policy server in spawn mode (requests on
# stdin, replies on stdout) the way Postfix's spawn(8) runs it.
#
# Every expected reply below was checked against the Python policyd-spf
# (t/policy-compat.t runs it on the same cases); where ours differs on
# purpose the case carries `python=` with the Python reply and `why=`
# naming the DIFFERENCES entry of policyd-spf.conf(5).

import os
import subprocess
import tempfile

# Client addresses: 192.0.2.10 is authorised by the pass.* records,
# 198.51.100.7 by nothing.
GOOD = '192.0.2.10'
BAD = '198.51.100.7'

ZONE = {
    'pass.example.com': [{'TXT': 'v=spf1 ip4:192.0.2.10 -all'}],
    'mail.pass.example.com': [{'TXT': 'v=spf1 ip4:192.0.2.10 -all'}, {'A': '192.0.2.10'}],
    'fail.example.com': [{'TXT': 'v=spf1 -all'}],
    'softfail.example.com': [{'TXT': 'v=spf1 ~all'}],
    'mail.softfail.example.com': [{'TXT': 'v=spf1 ~all'}],
    'neutral.example.com': [{'TXT': 'v=spf1 ?all'}],
    'none.example.com': [{'A': '192.0.2.99'}],
    'txtonly.example.com': [{'TXT': 'hello world'}],
    'permerror.example.com': [{'TXT': 'v=spf1 moo'}],
    'temperror.example.com': ['TIMEOUT'],
    'servfail.example.com': ['SERVFAIL'],
    'exp.example.com': [{'TXT': 'v=spf1 -all exp=explain.exp.example.com'}],
    'explain.exp.example.com': [{'TXT': '%{i} is not one of %{d}\'s designated mail servers.'}],
    'tabexp.example.com': [{'TXT': 'v=spf1 -all exp=explain.tabexp.example.com'}],
    'explain.tabexp.example.com': [{'TXT': 'see\there %{i}'}],
    'nomail.example.com': [{'TXT': 'v=spf1 -all'}],
    'notnomail.example.com': [{'TXT': 'v=spf1 ip4:203.0.113.1 -all'}],
    'badhelo.example.com': [{'TXT': 'v=spf1 -all'}],
    'softhelo.example.com': [{'TXT': 'v=spf1 ~all'}],
    'permhelo.example.com': [{'TXT': 'v=spf1 moo'}],
    'temphelo.example.com': ['TIMEOUT'],
    'passhelo.example.com': [{'TXT': 'v=spf1 ip4:192.0.2.10 -all'}],
    'relay.example.org': [{'A': '192.0.2.10'}, {'AAAA': '2001:db8::10'}],
    'other.example.org': [{'A': '192.0.2.99'}],
    '10.2.0.192.in-addr.arpa': [{'PTR': 'host.relay.example.org'}],
    '7.100.51.198.in-addr.arpa': [{'PTR': 'host.evilexample.org'}],
    'trusted.example.net': [{'TXT': 'v=spf1 ip4:192.0.2.10 -all'}],
    'forwarder.example': [{'TXT': 'v=spf1 ip4:192.0.2.10 -all'}],
    'mail.forwarder.example': [{'TXT': 'v=spf1 ip4:192.0.2.10 -all'}],
}

RS = 'Received-SPF: '


def req(**kw):
    """A request: the usual Postfix attributes, overridable; a value of
    None leaves the attribute out."""
    base = {'request': 'smtpd_access_policy', 'protocol_state': 'RCPT', 'protocol_name': 'ESMTP',
            'client_address': BAD, 'client_name': 'unknown', 'helo_name': 'unknown.example.net',
            'sender': 'alice@fail.example.com', 'recipient': 'bob@example.net',
            'queue_id': '', 'instance': None, 'size': '0'}
    base.update(kw)
    return base


def encode(requests):
    out = []
    for r in requests:
        if isinstance(r, (bytes, str)):
            out.append(r if isinstance(r, bytes) else r.encode())
            continue
        for k, v in r.items():
            if v is not None:
                out.append(('%s=%s\n' % (k, v)).encode())
        out.append(b'\n')
    return b''.join(out)


def replies(raw):
    """action=... lines from a spawn-mode stdout."""
    text = raw.decode('utf-8', 'surrogateescape')
    return [blk for blk in text.split('\n\n') if blk]


def run_spawn(argv, conf_text, requests, timeout=60, env=None, path=None, files=None):
    """Run a server on a config (with '{dir}' replaced by the config's
    directory, where `files` are written too); (exit status, replies,
    stderr)."""
    d = None
    if path is None:
        d = tempfile.mkdtemp(prefix='pspf-pol.')
        os.chmod(d, 0o755)   # started as root, ours drops privileges: files must stay readable
        path = os.path.join(d, 'policyd-spf.conf')
    cdir = os.path.dirname(path)
    written = []
    for name, content in (files or {}).items():
        fp = os.path.join(cdir, name)
        with open(fp, 'w') as f:
            f.write(content)
        os.chmod(fp, 0o644)
        written.append(fp)
    with open(path, 'w') as f:
        f.write(conf_text.replace('{dir}', cdir))
    try:
        p = subprocess.run(list(argv) + [path], input=encode(requests), capture_output=True,
                           timeout=timeout, env=env)
        return p.returncode, replies(p.stdout), p.stderr.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired as e:
        return None, replies(e.stdout or b''), 'timed out'
    finally:
        os.unlink(path)
        for fp in written:
            os.unlink(fp)
        if d:
            os.rmdir(d)


def detail(ident, ip, helo, env, rcv='example.net'):
    return 'identity=%s; client-ip=%s; helo=%s; envelope-from=%s; receiver=%s ' % (ident, ip, helo, env, rcv)


def url(scope, ident, ip=BAD, rcv='example.net'):
    return 'http://www.openspf.net/Why?s=%s;id=%s;ip=%s;r=%s' % (scope, ident, ip, rcv)


def rej(reason, scope, ident, ip=BAD, code='550 5.7.23', rcv='example.net'):
    return 'action=%s Message rejected due to: %s. Please see %s' % (code, reason, url(scope, ident, ip, rcv))


def dfr(reason, scope, ident, ip=BAD, code='defer_if_permit 4.7.24'):
    return 'action=%s Message deferred due to: %s. Please see %s' % (code, reason, url(scope, ident, ip))


FAILR = 'SPF fail - not authorized'
SOFTR = 'domain owner discourages use of this host'
NEUTR = 'access neither permitted nor denied'
PASSR = 'sender SPF authorized'
PERMR = 'SPF Permanent Error: Unknown mechanism found: moo'
TEMPR = 'SPF Temporary Error: DNS Timeout'

BASE = 'debugLevel = 1\nLookup_Time = 2\nWhitelist_Lookup_Time = 2\n'


def C(name, conf, requests, want, python=None, why=None, timeout=60, logs_differ=False, files=None,
      ours_log=()):
    return {'name': name, 'conf': BASE + conf, 'requests': requests, 'want': want,
            'python': python, 'why': why, 'timeout': timeout, 'logs_differ': logs_differ,
            'files': files, 'ours_log': ours_log}


def mf(res, sender, helo='unknown.example.net', ip=BAD, rcv='example.net'):
    return 'action=prepend ' + RS + '%s (mailfrom) ' % res + detail('mailfrom', ip, helo, sender, rcv)


def hh(res, reason, helo, sender, ip=BAD):
    return 'action=prepend ' + RS + '%s (%s) ' % (res, reason) + detail('helo', ip, helo, sender)


def cases():
    out = []
    # --- MAIL FROM matrix (HELO None: unknown.example.net has no record) ---
    mails = [('Pass', 'alice@pass.example.com', GOOD), ('Fail', 'alice@fail.example.com', BAD),
             ('Softfail', 'alice@softfail.example.com', BAD), ('Neutral', 'alice@neutral.example.com', BAD),
             ('None', 'alice@none.example.com', BAD), ('Permerror', 'alice@permerror.example.com', BAD),
             ('Temperror', 'alice@temperror.example.com', BAD)]
    reasons = {'Fail': FAILR, 'Softfail': SOFTR, 'Neutral': NEUTR, 'Permerror': PERMR, 'Temperror': TEMPR}
    matrix = {
        # policy: results rejected, with (pe, te) off / on
        'Fail': ({'Fail'}, {'Fail', 'Permerror'}, {'Temperror'}),
        'Softfail': ({'Fail', 'Softfail'}, {'Fail', 'Softfail', 'Permerror'}, {'Temperror'}),
        'SPF_Not_Pass': ({'Fail', 'Softfail', 'Neutral'}, {'Fail', 'Softfail', 'Neutral', 'Permerror'}, {'Temperror'}),
        'False': (set(), set(), set()),
        'fail': (set(), {'Permerror'}, {'Temperror'}),
    }
    for pol, (rj_off, rj_on, df_on) in matrix.items():
        for on in (False, True):
            conf = 'HELO_reject = No_Check\nMail_From_reject = %s\n' % pol
            if on:
                conf += 'PermError_reject = True\nTempError_Defer = True\n'
            rq, want = [], []
            for res, sender, ip in mails:
                rq.append(req(client_address=ip, sender=sender))
                if res in (rj_on if on else rj_off):
                    want.append(rej(reasons[res], 'mfrom', sender, ip,
                                    code='550 5.7.24' if res == 'Permerror' else '550 5.7.23'))
                elif on and res in df_on:
                    want.append(dfr(reasons[res], 'mfrom', sender, ip))
                else:
                    want.append(mf(res, sender, ip=ip))
            out.append(C('Mail_From_reject = %s, PermError/TempError %s' % (pol, 'on' if on else 'off'),
                         conf, rq, want, timeout=120))

    # --- HELO matrix, null sender (only HELO is checked) ---
    helos = [('Pass', 'passhelo.example.com', GOOD), ('Fail', 'badhelo.example.com', BAD),
             ('Softfail', 'softhelo.example.com', BAD), ('None', 'nohelo.example.com', BAD),
             ('Permerror', 'permhelo.example.com', BAD), ('Temperror', 'temphelo.example.com', BAD)]
    hreasons = dict(reasons, Pass=PASSR, **{'None': 'no SPF record'})
    for pol, rj in (('Fail', {'Fail', 'Permerror'}), ('Softfail', {'Fail', 'Softfail', 'Permerror'}),
                    ('SPF_Not_Pass', {'Fail', 'Softfail', 'Permerror'}), ('Null', {'Fail', 'Permerror'}),
                    ('False', set())):
        conf = 'HELO_reject = %s\nPermError_reject = True\nTempError_Defer = True\n' % pol
        rq, want = [], []
        for res, helo, ip in helos:
            rq.append(req(client_address=ip, helo_name=helo, sender=''))
            if res in rj:
                want.append(rej(hreasons[res], 'helo', helo, ip,
                                code='550 5.7.24' if res == 'Permerror' else '550 5.7.23'))
            elif res == 'Temperror' and pol != 'False':
                want.append(dfr(TEMPR, 'helo', helo, ip))
            else:
                want.append(hh(res, hreasons[res], helo, '<>', ip))
        out.append(C('HELO_reject = %s, null sender' % pol, conf, rq, want, timeout=120))

    # HELO Null with a sender: no HELO decision
    out.append(C('HELO_reject = Null with a sender', 'HELO_reject = Null\nPermError_reject = True\n',
                 [req(helo_name='badhelo.example.com', sender='alice@none.example.com'),
                  req(helo_name='permhelo.example.com', sender='alice@pass.example.com', client_address=GOOD)],
                 [hh('Fail', FAILR, 'badhelo.example.com', 'alice@none.example.com'),
                  mf('Pass', 'alice@pass.example.com', 'permhelo.example.com', GOOD)]))
    # HELO reject wins over MAIL FROM pass; HELO reject with MAIL FROM reject
    out.append(C('HELO fail wins over MAIL FROM pass', '',
                 [req(client_address=BAD, helo_name='badhelo.example.com', sender='alice@softfail.example.com'),
                  req(client_address=GOOD, helo_name='badhelo.example.com', sender='alice@pass.example.com')],
                 [rej(FAILR, 'helo', 'badhelo.example.com'),
                  rej(FAILR, 'helo', 'badhelo.example.com', GOOD)]))
    out.append(C('MAIL FROM None keeps the HELO header', '',
                 [req(helo_name='softhelo.example.com', sender='alice@none.example.com'),
                  req(client_address=GOOD, helo_name='mail.pass.example.com', sender='alice@none.example.com'),
                  req(sender='alice@none.example.com')],
                 [hh('Softfail', SOFTR, 'softhelo.example.com', 'alice@none.example.com'),
                  hh('Pass', PASSR, 'mail.pass.example.com', 'alice@none.example.com', GOOD),
                  mf('None', 'alice@none.example.com')]))
    out.append(C('empty helo_name uses the sender domain', '',
                 [req(client_address=GOOD, helo_name='', sender='alice@pass.example.com')],
                 [mf('Pass', 'alice@pass.example.com', 'pass.example.com', GOOD)]))
    out.append(C('sender without @', '', [req(sender='foo')], [mf('None', 'foo')]))
    out.append(C('both No_Check', 'HELO_reject = No_Check\nMail_From_reject = No_Check\n',
                 [req()], ['action=dunno']))
    out.append(C('exp= explanation', '', [req(sender='alice@exp.example.com')],
                 [rej("198.51.100.7 is not one of exp.example.com's designated mail servers.", 'mfrom',
                      'alice@exp.example.com')]))
    out.append(C('upper-case sender is lower-cased', '',
                 [req(client_address=GOOD, sender='Alice@PASS.Example.COM', helo_name='Mail.Pass.Example.com')],
                 [mf('Pass', 'alice@pass.example.com', 'mail.pass.example.com', GOOD)]))

    # --- bypasses ---
    xc = 'action=prepend X-Comment: %sclient-ip=%s; helo=%s; envelope-from=%s; receiver=%s '
    out.append(C('skip_addresses default (127.0.0.1, ::1, mapped)', '',
                 [req(client_address='127.0.0.1', helo_name='localhost'), req(client_address='::1'),
                  req(client_address='::ffff:127.0.0.1')],
                 [xc % ('SPF check N/A for local connections - ', '127.0.0.1', 'localhost', 'alice@fail.example.com', 'example.net'),
                  xc % ('SPF check N/A for local connections - ', '::1', 'unknown.example.net', 'alice@fail.example.com', 'example.net'),
                  xc % ('SPF check N/A for local connections - ', '::ffff:127.0.0.1', 'unknown.example.net', 'alice@fail.example.com', 'example.net')]))
    out.append(C('Whitelist with netmask and a network', 'Whitelist = 10.0.0.0/255.0.0.0,198.51.100.0/24\n',
                 [req(client_address='10.1.2.3'), req()],
                 [xc % ('SPF skipped for whitelisted relay - ', '10.1.2.3', 'unknown.example.net', 'alice@fail.example.com', 'example.net'),
                  xc % ('SPF skipped for whitelisted relay - ', BAD, 'unknown.example.net', 'alice@fail.example.com', 'example.net')]))
    out.append(C('Whitelist host bits set: rest ignored', 'Whitelist = 192.168.1.1/24,198.51.100.0/24\n',
                 [req()], [rej(FAILR, 'mfrom', 'alice@fail.example.com')]))
    out.append(C('Domain_Whitelist', 'Domain_Whitelist = nothing.example, trusted.example.net,trusted.example.net\n',
                 [req(client_address=GOOD), req()],
                 [xc % ('SPF skipped for whitelisted relay domain - ', GOOD, 'unknown.example.net', 'alice@fail.example.com', 'example.net'),
                  rej(FAILR, 'mfrom', 'alice@fail.example.com')]))
    out.append(C('HELO_Whitelist', 'HELO_Whitelist = other.example.org,relay.example.org,Relay.example.org\n',
                 [req(client_address=GOOD, helo_name='relay.example.org'),
                  req(client_address=GOOD, helo_name='RELAY.example.org'),
                  req(client_address=BAD, helo_name='relay.example.org'),
                  req(client_address='2001:db8::10', helo_name='relay.example.org')],
                 [xc % ('SPF skipped for whitelisted HELO domain - ', GOOD, 'relay.example.org', 'alice@fail.example.com', 'example.net'),
                  xc % ('SPF skipped for whitelisted HELO domain - ', GOOD, 'relay.example.org', 'alice@fail.example.com', 'example.net'),
                  rej(FAILR, 'mfrom', 'alice@fail.example.com'),
                  xc % ('SPF skipped for whitelisted HELO domain - ', '2001:db8::10', 'relay.example.org', 'alice@fail.example.com', 'example.net')]))
    out.append(C('Domain_Whitelist_PTR (plain suffix, first PTR)', 'Domain_Whitelist_PTR = example.org\n',
                 [req(client_address=GOOD), req(client_address=BAD), req(client_address='203.0.113.9')],
                 [xc % ('SPF skipped for PTR whitelisted relay domain - ', GOOD, 'unknown.example.net', 'alice@fail.example.com', 'example.net'),
                  xc % ('SPF skipped for PTR whitelisted relay domain - ', BAD, 'unknown.example.net', 'alice@fail.example.com', 'example.net'),
                  rej(FAILR, 'mfrom', 'alice@fail.example.com', '203.0.113.9')]))
    out.append(C('bypass AR form', 'Header_Type = AR\nAuthserv_Id = MX.Example.NET\nWhitelist = 198.51.100.7\n',
                 [req(sender='')],
                 ['action=prepend Authentication-Results: mx.example.net; none (SPF skipped for whitelisted relay -  client-ip=198.51.100.7; helo=unknown.example.net; envelope-from=; receiver=example.net)']))
    out.append(C('bypass header shows absent attributes as <UNKNOWN>', '',
                 [{'client_address': '127.0.0.1'}],
                 [xc % ('SPF check N/A for local connections - ', '127.0.0.1', '<UNKNOWN>', '<UNKNOWN>', 'none')]))

    # --- receiver ---
    out.append(C('Hide_Receiver', 'Hide_Receiver = no\n', [req(client_address=GOOD, sender='alice@pass.example.com')],
                 [mf('Pass', 'alice@pass.example.com', ip=GOOD, rcv='<UNKNOWN>')]))
    out.append(C('receiver forms', '', [req(client_address=GOOD, sender='alice@pass.example.com', recipient='postmaster'),
                                       req(client_address=GOOD, sender='alice@pass.example.com', recipient=''),
                                       req(client_address=GOOD, sender='alice@pass.example.com', recipient='a@b@c')],
                 [mf('Pass', 'alice@pass.example.com', ip=GOOD, rcv='postmaster'),
                  mf('Pass', 'alice@pass.example.com', ip=GOOD, rcv='none'),
                  mf('Pass', 'alice@pass.example.com', ip=GOOD, rcv='b')]))

    # --- options ---
    out.append(C('TestOnly = 0: only prepends, rejects become dunno', 'TestOnly = 0\n',
                 [req(), req(client_address=GOOD, sender='alice@pass.example.com')],
                 ['action=dunno', mf('Pass', 'alice@pass.example.com', ip=GOOD)]))
    out.append(C('SPF_Enhanced_Status_Codes = No', 'SPF_Enhanced_Status_Codes = No\nTempError_Defer = True\n',
                 [req(), req(sender='alice@temperror.example.com')],
                 [rej(FAILR, 'mfrom', 'alice@fail.example.com', code='550'),
                  dfr(TEMPR, 'mfrom', 'alice@temperror.example.com', code='defer_if_permit')]))
    out.append(C('Reject_Not_Pass_Domains (reversed matching)', 'Reject_Not_Pass_Domains = mail.softfail.example.com,example.com\n',
                 [req(sender='alice@softfail.example.com'), req(sender='alice@neutral.example.com'),
                  req(client_address=GOOD, sender='alice@pass.example.com')],
                 [rej('Receiver policy for SPF Softfail', 'mfrom', 'alice@softfail.example.com'),
                  mf('Neutral', 'alice@neutral.example.com'),
                  mf('Pass', 'alice@pass.example.com', ip=GOOD)]))
    out.append(C('No_Mail', 'No_Mail = True\n',
                 [req(sender='alice@nomail.example.com'), req(sender='alice@notnomail.example.com')],
                 [rej(FAILR, 'mfrom', 'alice@nomail.example.com'), mf('Fail', 'alice@notnomail.example.com')]))
    out.append(C('Mail_From_pass_restriction', 'Mail_From_pass_restriction = spf_pass_class\n',
                 [req(client_address=GOOD, sender='alice@pass.example.com'), req()],
                 ['action=spf_pass_class', rej(FAILR, 'mfrom', 'alice@fail.example.com')]))
    out.append(C('HELO_pass_restriction wins over MAIL FROM fail', 'HELO_pass_restriction = spf_fin, passed_spf\n',
                 [req(client_address=GOOD, helo_name='passhelo.example.com', sender='alice@fail.example.com')],
                 ['action=spf_fin, passed_spf']))
    out.append(C('HELO_pass_restriction alone, both pass', 'HELO_pass_restriction = helo_class\n',
                 [req(client_address=GOOD, helo_name='passhelo.example.com', sender='alice@pass.example.com')],
                 ['action=helo_class'], python=['action=None'],
                 why='Python answers action=None (Postfix 451)'))
    out.append(C('HELO_pass_restriction with Mail_From_reject = No_Check', 'HELO_pass_restriction = hp\nMail_From_reject = No_Check\n',
                 [req(client_address=GOOD, helo_name='passhelo.example.com', instance='h1'),
                  req(client_address=GOOD, helo_name='passhelo.example.com', instance='h1')],
                 ['action=hp', 'action=hp'],
                 python=[hh('Pass', PASSR, 'passhelo.example.com', 'alice@fail.example.com', GOOD), 'action=hp'],
                 why='the restriction applies to the first recipient too'))
    out.append(C('NAT warning for a private client address', 'NAT_Warning_Interval = 1\n',
                 [req(client_address='172.17.0.5', sender='alice@none.example.com'),
                  req(client_address='172.17.0.5', sender='alice@none.example.com')],
                 [mf('None', 'alice@none.example.com', ip='172.17.0.5')] * 2, logs_differ=True,
                 ours_log=[(20, 'WARNING: SPF checked for client 172.17.0.5, a private address (1 such checks so far): '
                                'the client IP is probably a NAT gateway or a Docker bridge, and SPF results for it '
                                'are meaningless. Let the MTA see the real client address, or list this network in '
                                'Whitelist or skip_addresses (NAT_Warning_Interval = 0 silences this warning)')]))
    out.append(C('Prospective', 'Prospective = 192.0.2.10\n',
                 [req(sender='alice@pass.example.com'), req(sender='alice@fail.example.com')],
                 ['action=dunno', rej(FAILR, 'mfrom', 'alice@fail.example.com', GOOD)]))
    out.append(C('Header_Type = None', 'Header_Type = None\n', [req(client_address=GOOD, sender='alice@pass.example.com')],
                 ['action=dunno']))
    out.append(C('Header_Type = AR, Authserv_Id', 'Header_Type = AR\nAuthserv_Id = MX.Example.NET\n',
                 [req(client_address=GOOD, sender='alice@pass.example.com'),
                  req(client_address=BAD, helo_name='[198.51.100.7]', sender='')],
                 ['action=prepend Authentication-Results: mx.example.net; spf=pass (sender SPF authorized) smtp.mailfrom=pass.example.com (client-ip=192.0.2.10; helo=unknown.example.net; envelope-from=alice@pass.example.com; receiver=example.net)',
                  'action=prepend Authentication-Results: mx.example.net; spf=none (no SPF record) smtp.helo="[198.51.100.7]" (client-ip=198.51.100.7; helo=[198.51.100.7]; envelope-from=<>; receiver=example.net)']))
    out.append(C('Authserv_Id lower-cased beyond ASCII', 'Header_Type = AR\nAuthserv_Id = MÜ.Example\n',
                 [req(client_address=GOOD, sender='alice@pass.example.com')],
                 ['action=prepend Authentication-Results: mü.example; spf=pass (sender SPF authorized) smtp.mailfrom=pass.example.com (client-ip=192.0.2.10; helo=unknown.example.net; envelope-from=alice@pass.example.com; receiver=example.net)']))
    out.append(C('Header_Type = ar is Received-SPF', 'Header_Type = ar\n',
                 [req(client_address=GOOD, sender='alice@pass.example.com')],
                 [mf('Pass', 'alice@pass.example.com', ip=GOOD)]))
    out.append(C('Reason_Message template', 'Reason_Message = SPF {rejectdefer}: {spf:.8} [{{see}} {url}]\n',
                 [req()],
                 ['action=550 5.7.23 SPF rejected: SPF fail [{see} %s]' % url('mfrom', 'alice@fail.example.com')]))
    out.append(C('Void_Limit = 0: no record at all is Permerror', 'Void_Limit = 0\nHELO_reject = No_Check\n',
                 [req(sender='alice@none.example.com'), req(sender='alice@txtonly.example.com')],
                 [mf('Permerror', 'alice@none.example.com'), mf('None', 'alice@txtonly.example.com')]))
    out.append(C('SERVFAIL is no record (pydns over UDP)', 'TempError_Defer = True\n',
                 [req(sender='alice@servfail.example.com')], [mf('None', 'alice@servfail.example.com')]))
    out.append(C('SERVFAIL_Is_Temperror = Yes', 'TempError_Defer = True\nSERVFAIL_Is_Temperror = Yes\n',
                 [req(sender='alice@servfail.example.com')],
                 ['action=defer_if_permit 4.7.24 Message deferred due to: SPF Temporary Error: DNS Error: SERVFAIL  RCODE: 2. Please see ' + url('mfrom', 'alice@servfail.example.com')],
                 python=[mf('None', 'alice@servfail.example.com')], why='SERVFAIL_Is_Temperror = Yes'))
    out.append(C('Lookup_Time negative: Temperror', 'Lookup_Time = -1\n', [req()],
                 [mf('Temperror', 'alice@fail.example.com')], python=None))
    out.append(C('defaultSeedOnly, unknown keys, our keys are harmless',
                 'defaultSeedOnly = 1\nFrobnicate = 1\nQueueID = False\n', [req()],
                 [rej(FAILR, 'mfrom', 'alice@fail.example.com')]))

    # --- several recipients of one message (instance) ---
    out.append(C('one header per instance', '',
                 [req(client_address=GOOD, sender='alice@pass.example.com', instance='abc.1', recipient='a@x.example'),
                  req(client_address=GOOD, sender='alice@pass.example.com', instance='abc.1', recipient='b@y.example'),
                  req(client_address=GOOD, sender='alice@pass.example.com', instance='abc.2')],
                 [mf('Pass', 'alice@pass.example.com', ip=GOOD, rcv='x.example'), 'action=dunno',
                  mf('Pass', 'alice@pass.example.com', ip=GOOD)]))
    out.append(C('replayed rejects (PermError 5.7.24 then 5.7.23, first r=)', 'PermError_reject = True\n',
                 [req(sender='alice@permerror.example.com', instance='p.1', recipient='a@x.example'),
                  req(sender='alice@permerror.example.com', instance='p.1', recipient='b@y.example')],
                 [rej(PERMR, 'mfrom', 'alice@permerror.example.com', code='550 5.7.24', rcv='x.example'),
                  rej(PERMR, 'mfrom', 'alice@permerror.example.com', code='550 5.7.23', rcv='x.example')]))
    out.append(C('no instance: every recipient prepends', '',
                 [req(client_address=GOOD, sender='alice@pass.example.com'),
                  req(client_address=GOOD, sender='alice@pass.example.com')],
                 [mf('Pass', 'alice@pass.example.com', ip=GOOD)] * 2))

    # --- log lines at debugLevel 2 (compared with the Python server's) ---
    out.append(C('debugLevel 2: HELO and MAIL FROM results', 'debugLevel = 2\n',
                 [req(helo_name='softhelo.example.com', sender='alice@none.example.com', queue_id='4XyZ'),
                  req(client_address=GOOD, helo_name='passhelo.example.com', sender="o'brien@pass.example.com"),
                  req(helo_name='badhelo.example.com', queue_id=None),
                  req(sender='alice@exp.example.com'),
                  req(sender=''),
                  req(client_address=None), req(sender='', helo_name='')],
                 [hh('Softfail', SOFTR, 'softhelo.example.com', 'alice@none.example.com'),
                  mf('Pass', "o'brien@pass.example.com", 'passhelo.example.com', GOOD),
                  rej(FAILR, 'helo', 'badhelo.example.com'),
                  rej("198.51.100.7 is not one of exp.example.com's designated mail servers.", 'mfrom',
                      'alice@exp.example.com'),
                  hh('None', 'no SPF record', 'unknown.example.net', '<>'),
                  'action=dunno', 'action=dunno']))
    out.append(C('debugLevel 2: Reject_Not_Pass_Domains and errors', 'debugLevel = 2\nReject_Not_Pass_Domains = softfail.example.com\nPermError_reject = True\n',
                 [req(sender='alice@softfail.example.com'), req(sender='alice@permerror.example.com')],
                 [rej('Receiver policy for SPF Softfail', 'mfrom', 'alice@softfail.example.com'),
                  rej(PERMR, 'mfrom', 'alice@permerror.example.com', code='550 5.7.24')]))
    out.append(C('debugLevel 0: only errors', 'debugLevel = 0\nWhitelist = 10.0.0.0/8,bogus\n',
                 [req()], [rej(FAILR, 'mfrom', 'alice@fail.example.com')]))
    out.append(C('debugLevel -1: silent', 'debugLevel = -1\n', [req()], [rej(FAILR, 'mfrom', 'alice@fail.example.com')]))

    # --- verbose logs (compared with the Python server's, Read line order aside) ---
    out.append(C('debugLevel 5: caching, bypass, No_Mail', 'debugLevel = 5\nNo_Mail = True\nWhitelist = 10.0.0.0/8\n'
                 'HELO_pass_restriction = x\nInternalHosts = 10.0.0.1, 10.0.0.2\n',
                 [req(helo_name='softhelo.example.com', sender='alice@none.example.com', queue_id='4XyZ', instance='i1'),
                  req(instance='i1'), req(client_address='127.0.0.1'), req(sender='alice@nomail.example.com'),
                  req(sender='alice@notnomail.example.com'), req(client_address='10.9.9.9', instance='i2'),
                  req(client_address='10.9.9.9', instance='i2')],
                 [hh('Softfail', SOFTR, 'softhelo.example.com', 'alice@none.example.com'), 'action=dunno',
                  'action=prepend X-Comment: SPF check N/A for local connections - client-ip=127.0.0.1; helo=unknown.example.net; envelope-from=alice@fail.example.com; receiver=example.net ',
                  rej(FAILR, 'mfrom', 'alice@nomail.example.com'), mf('Fail', 'alice@notnomail.example.com'),
                  'action=prepend X-Comment: SPF skipped for whitelisted relay - client-ip=10.9.9.9; helo=unknown.example.net; envelope-from=alice@fail.example.com; receiver=example.net ',
                  'action=dunno']))
    out.append(C('Per_User, debugLevel 4', 'debugLevel = 4\nPer_User = text,{dir}/peruser\n',
                 [req(recipient='bob@example.net'), req(recipient='alice@example.net', instance='m1'),
                  req(recipient='carol@example.net', sender='alice@softfail.example.com', instance='m1'),
                  req(recipient='carol@example.net', sender='alice@softfail.example.com', instance='m1'),
                  req(recipient='dave@example.net', client_address=GOOD, sender='alice@pass.example.com')],
                 [mf('Fail', 'alice@fail.example.com', rcv='bob@example.net'),
                  rej(FAILR, 'mfrom', 'alice@fail.example.com', rcv='alice@example.net'),
                  rej('Receiver policy for SPF Softfail', 'mfrom', 'alice@softfail.example.com', rcv='carol@example.net'),
                  rej('Receiver policy for SPF Softfail', 'mfrom', 'alice@softfail.example.com', rcv='carol@example.net'),
                  'action=helo_class'],
                 files={'peruser': '# per user\nbob@example.net, Mail_From_reject=False|TestOnly=0\n'
                                   'carol@example.net,Reject_Not_Pass_Domains=softfail.example.com|debugLevel=2\n'
                                   'dave@example.net,Mail_From_pass_restriction=helo_class|Authserv-Id=x\n'}))
    out.append(C('Per_User file missing', 'Per_User = text,{dir}/nonexistent\n', [req()],
                 [rej(FAILR, 'mfrom', 'alice@fail.example.com', rcv='bob@example.net')]))
    out.append(C('Mock = False', 'Mock = False\n', [req(), req(sender='')],
                 ['action=dunno mock header field that should be ignored'] * 2))

    # --- odd requests ---
    out.append(C('no client_address', '', [req(client_address=None)], ['action=dunno']))
    out.append(C('no sender and no helo', '', [req(sender='', helo_name='')], ['action=dunno']))
    out.append(C('stray empty line gives dunno', '', [b'\n'], ['action=dunno']))
    out.append(C('IPv6 client printed as received', '',
                 [req(client_address='2001:DB8:0:0::10', sender='alice@none.example.com')],
                 [mf('None', 'alice@none.example.com', ip='2001:db8:0:0::10')]))
    out.append(C('SRS sender escaped', '',
                 [req(client_address=GOOD, sender='SRS0=HHH=TT=a-very-long-original-domain.example=al@forwarder.example')],
                 ['action=prepend ' + RS + 'Pass (mailfrom) ' + detail(
                     'mailfrom', GOOD, 'unknown.example.net',
                     '"srs0\\=hhh\\=tt\\=a-very-long-original-domain.example\\=al@forwarder.example"')],
                 python=[mf('Pass', 'srs0=hhh=tt=a-very-long-original-domain.example=al@forwarder.example', ip=GOOD)],
                 why='Envelope_From_Escape = Yes (OpenDMARC)'))
    out.append(C('SRS sender, Envelope_From_Escape = No', 'Envelope_From_Escape = No\n',
                 [req(client_address=GOOD, sender='bounces+1-user=example.org@mail.forwarder.example')],
                 [mf('Pass', 'bounces+1-user=example.org@mail.forwarder.example', ip=GOOD)],
                 logs_differ=True))   # Python logs our key as unknown
    # crash cases of the Python server (§9.1): safe outcomes here
    out.append(C('client_address unknown', '', [req(client_address='unknown')], ['action=dunno'],
                 python=[], why='Python crashes'))
    out.append(C('client_address with an IPv6 scope id', '', [req(client_address='fe80::1%eth0')], ['action=dunno'],
                 python=[], why='Python crashes'))
    out.append(C('exp= text with a TAB is kept', '', [req(sender='alice@tabexp.example.com')],
                 [rej('see\there 198.51.100.7', 'mfrom', 'alice@tabexp.example.com')]))
    out.append(C('empty client_address', '', [req(client_address=''), req(client_address='', sender='alice@none.example.com')],
                 ['action=dunno', 'action=dunno'],
                 python=['action=dunno', 'action=prepend ' + RS + 'None (mailfrom) ' + detail('mailfrom', '', 'unknown.example.net', 'alice@none.example.com')],
                 why='an empty client_address is not checked'))
    out.append(C('IPv4-mapped client is checked as IPv4', '',
                 [req(client_address='::ffff:192.0.2.10', sender='alice@pass.example.com')],
                 [mf('Pass', 'alice@pass.example.com', ip='::ffff:192.0.2.10')]))
    out.append(C('client_address with a leading blank', '', [b'client_address = 192.0.2.10\nsender=alice@pass.example.com\n\n'],
                 ['action=dunno'], python=[], why='Python crashes'))
    out.append(C('empty skip_addresses', 'skip_addresses =\n', [req()],
                 [rej(FAILR, 'mfrom', 'alice@fail.example.com')], python=[], why='Python crashes'))
    out.append(C('absent sender, MAIL FROM not checked: envelope-from=None', 'Mail_From_reject = No_Check\nHELO_reject = False\n',
                 [req(sender=None, helo_name='badhelo.example.com')],
                 [hh('Fail', FAILR, 'badhelo.example.com', 'None')]))
    out.append(C('absent sender attribute is the null sender', '', [req(sender=None, helo_name='badhelo.example.com')],
                 [rej(FAILR, 'helo', 'badhelo.example.com')]))
    out.append(C('Reason_Message with an unknown field', 'Reason_Message = {nope} {spf}\n', [req()],
                 [rej(FAILR, 'mfrom', 'alice@fail.example.com')], python=[], why='Python crashes'))
    out.append(C('Header_Type SPF,AR', 'Header_Type = SPF,AR\nAuthserv_Id = mx\n',
                 [req(client_address=GOOD, sender='alice@pass.example.com')],
                 ['action=prepend Authentication-Results: mx; spf=pass (sender SPF authorized) smtp.mailfrom=pass.example.com (client-ip=192.0.2.10; helo=unknown.example.net; envelope-from=alice@pass.example.com; receiver=example.net)'],
                 python=[], why='Python crashes'))
    out.append(C('CR inside a value cannot break the header', '',
                 [b'client_address=192.0.2.10\nhelo_name=a\rb.example\nsender=alice@pass.example.com\n\n'],
                 [mf('Pass', 'alice@pass.example.com', 'a?b.example', GOOD, rcv='none')],
                 python=['action=prepend ' + RS + 'Pass (mailfrom) ' + detail('mailfrom', GOOD, 'a\rb.example', 'alice@pass.example.com', 'none')],
                 why='control bytes replaced'))
    return out
