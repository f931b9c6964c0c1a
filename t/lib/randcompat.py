# randcompat.py - seeded random differential testing of our policyd-spf
# against the Python one (t/policy-random.t): from one integer seed, a
# zone, a config and a sequence of requests; both servers run in spawn
# mode on them against the same t/dnsd.py; the replies are compared byte
# for byte and every difference is classified:
#   same      - identical
#   intended  - a difference policyd-spf.conf(5) DIFFERENCES documents
#               (each rule below names the entry)
#   crash     - the Python server died (pypolicyd-spf.md 9.1); ours must
#               still answer every request with one well-formed line
#   known     - a bug of ours that is written up and not yet fixed
#               (KNOWN_BUGS, findings F1..F11 in the compat report;
#               reported as TAP TODO, never hidden)
#   bug       - anything else: the test fails
#   logdiff   - replies all the same, but the syslog lines that must match
#               (debugLevel <= 2) differ: the test fails
# Where DIFFERENCES documents our answer to a request Python dies on
# (non-IP client_address: dunno; Header_Type SPF+AR: Authentication-Results)
# that answer is checked too (crash_outcome()).  The intended differences,
# each with its man page reason, are the rules of _intended().
#
# Everything drawn from random.Random(seed), so a seed is a fixed case:
#   PSPF_RANDOM_SEEDS=1-500 PSPF_RANDOM_VERBOSE=1 prove -v t/policy-random.t
# Zones of all seeds live under s<seed>.example, so one dnsd serves a run.

import os
import random
import re
import subprocess
import tempfile

from logcmp import OUR_ONLY_LOG

GOOD4 = '192.0.2.10'
BAD4 = '198.51.100.7'
GOOD6 = '2001:db8::10'
BAD6 = '2001:db8:1::bad'
PYSERVER = '/usr/bin/policyd-spf'

# names shared by every seed (reverse zones, the HELO_Whitelist hosts)
GLOBAL_ZONE = {
    '10.2.0.192.in-addr.arpa': [{'PTR': 'host.relay.example.org'}],
    '7.100.51.198.in-addr.arpa': [{'PTR': 'host.evilexample.org'}, {'PTR': 'second.example.org'}],
    '0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa': [{'PTR': 'v6host.relay.example.org'}],
    'host.relay.example.org': [{'A': GOOD4}, {'AAAA': GOOD6}],
    'v6host.relay.example.org': [{'AAAA': GOOD6}],
    'host.evilexample.org': [{'A': BAD4}],
    'relay.example.org': [{'A': GOOD4}, {'AAAA': GOOD6}, {'TXT': 'v=spf1 a -all'}],
    'alias.example.org': [{'CNAME': 'relay.example.org'}],
    'trusted.example.net': [{'TXT': 'v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/64 -all'}],
    'unknown.example.net': [{'A': '203.0.113.1'}],
}

BROKEN = [
    'v=spf1 moo', 'v=spf1 ip4:192.0.2.10/33 -all', 'v=spf1 include: -all', 'v=spf1 a:foo..bar -all',
    'v=spf1 redirect=a.example redirect=b.example', 'v=spf1 exists:%{z} -all',
    'v=spf1 ip4:192.0.2.10, -all', 'v=spf1 all.', 'v=spf1 ip4: -all',
    'v=spf1 ip6:2001:db8::/129 -all', 'v=spf1 a/33 -all', 'v=spf1 a:192.0.2.10 -all',
    'v=spf1 ip:192.0.2.10 -all', 'v=spf1 exp= -all', 'v=spf1 redirect=', 'v=spf1 *all',
    'v=spf1 a:%{d}.% -all', 'v=spf1 ip4:192.0.2.10 default=deny', 'v=spf1 foo=bar ip4:192.0.2.10 -all',
    'v=spf1 ip6::: -all', 'v=spf1 ptr: -all', 'v=spf1 mx:foo.example/24//129 -all',
    'v=spf1 a:example -all', 'v=spf1 -all exp=%{', 'v=spf1 ip4:192.0.2.10 -all ip4:1.2.3.4/',
    'v=spf1 include:%{l1r+-}.x.example -all', 'v=spf1 exists:%{i}.%{q} -all', 'v=spf1 a//0 -all',
    'v=spf1 ip4:192.0.2.1/24 -all', 'v=spf1 a:-x.example -all', 'v=spf1 ~ip4:192.0.2.10 -all x',
    'v=spf1 %{d} -all', 'v=spf1 =all', 'v=spf1 -all -all -all redirect=x.example exp=y.example exp=z.example',
]

# macro transformers pyspf parses laxly (findings F4)
ODD_MACROS = ['%{o+2}', '%{o2r2}', '%{or1}', '%{o-r}', '%{d0}', '%{dR}', '%{l1r+-}', '%{d2r.}', '%{i-}']

EXP_TEXTS = [
    "%{i} is not one of %{d}'s designated mail servers.",
    'See http://%{d}/why?s=%{S}&i=%{I}&h=%{h}',
    '%{l} at %{o} via %{c} (%{r}) %{v} %{ir}',
    'rejected: %{s}', 'no', '%{p} not allowed', 'bad %{x} macro', '%%{d} %_%- done',
    'tab\there %{i}', 'ctl\x01byte', 'caf\u00e9 %{d}', '%{d1r}.%{l-}.%{o+2}',
]


def _label(rng, n=6):
    return ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(n))


class Zone:
    """The zone of one seed: names under s<seed>.example."""

    def __init__(self, seed, rng):
        self.sfx = 's%d.example' % seed
        self.rng = rng
        self.z = {}
        self.names = []       # names with something at them (used as senders / HELOs)
        self.kinds = {}

    def add(self, name, rec):
        self.z.setdefault(name, []).append(rec)

    def build(self):
        rng = self.rng
        kinds = ['pass', 'fail', 'softfail', 'neutral', 'plusall', 'noall', 'a', 'a_cidr', 'mx', 'include',
                 'redirect', 'exp', 'exp_soft', 'exp_missing', 'exp_two', 'ptr', 'ptr_dom', 'exists',
                 'exists_l', 'macro_ir', 'macro_upper', 'broken', 'broken', 'two', 'none', 'txtonly',
                 'servfail', 'txt_servfail', 'multistr', 'long', 'cname', 'nonascii', 'upper', 'void',
                 'toomany', 'include_none', 'include_fail', 'redirect_none', 'mx_many', 'idna', 'spaces',
                 'bare', 'nomail_first', 'nomail_split', 'spf_and_txt', 'include_temp', 'timeout',
                 'nxdomain', 'macro_odd', 'truncate', 'truncate_servfail', 'mx_cname', 'helo_macro', 'ptr6']
        count = rng.randint(8, 14)
        picks = rng.sample(kinds, count)
        if 'timeout' in picks and rng.random() < 0.6:
            picks.remove('timeout')   # keep TIMEOUT rare: every use costs Lookup_Time
        for i, k in enumerate(picks):
            name = '%s%d.%s' % (k.replace('_', '-'), i, self.sfx)
            self._kind(k, name)
            self.names.append(name)
            self.kinds[name] = k
        return self

    def other(self, exclude=None):
        cands = [n for n in self.names if n != exclude and self.kinds[n] not in ('timeout', 'include_temp')]
        return self.rng.choice(cands) if cands else 'trusted.example.net'

    def _kind(self, k, n):
        rng, add = self.rng, self.add
        T = lambda t: add(n, {'TXT': t})  # noqa: E731
        if k == 'pass':
            T(rng.choice(['v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/64 -all', 'v=spf1 ip4:192.0.2.10 ~all',
                          'v=spf1 ip6:2001:DB8::10 ip4:192.0.2.10/32 ?all']))
        elif k == 'fail':
            T('v=spf1 -all')
        elif k == 'softfail':
            T('v=spf1 ip4:192.0.2.10 ~all')
        elif k == 'neutral':
            T('v=spf1 ?all')
        elif k == 'plusall':
            T('v=spf1 +all')
        elif k == 'noall':
            T('v=spf1 ip4:203.0.113.0/24')
        elif k == 'a':
            T('v=spf1 a -all')
            add(n, {'A': GOOD4})
            add(n, {'AAAA': GOOD6})
        elif k == 'a_cidr':
            T('v=spf1 a:host.%s/24//64 ~all' % n)
            add('host.' + n, {'A': '192.0.2.77'})
            add('host.' + n, {'AAAA': '2001:db8::77'})
        elif k == 'mx':
            T('v=spf1 mx%s -all' % rng.choice(['', '/24', ':' + n]))
            add(n, {'MX': [10, 'mx1.' + n]})
            add(n, {'MX': [20, 'mx2.' + n]})
            add('mx1.' + n, {'A': rng.choice([GOOD4, '192.0.2.99'])})
            add('mx1.' + n, {'AAAA': GOOD6})
        elif k == 'include':
            T('v=spf1 include:%s %s' % (self.other(n), rng.choice(['-all', '~all', ''])))
        elif k == 'redirect':
            T('v=spf1 redirect=%s' % self.other(n))
        elif k in ('exp', 'exp_soft'):
            T('v=spf1 ip4:203.0.113.9 %sall exp=exp.%s' % ('-' if k == 'exp' else '~', n))
            add('exp.' + n, {'TXT': rng.choice(EXP_TEXTS)})
        elif k == 'exp_missing':
            T('v=spf1 -all exp=nothere.%s' % n)
        elif k == 'exp_two':
            T('v=spf1 -all exp=exp.%s' % n)
            add('exp.' + n, {'TXT': 'one'})
            add('exp.' + n, {'TXT': 'two'})
        elif k == 'ptr':
            T('v=spf1 ptr%s -all' % rng.choice(['', ':relay.example.org', ':example.org']))
        elif k == 'ptr_dom':
            T('v=spf1 ptr:evilexample.org ~all')
        elif k == 'exists':
            T('v=spf1 exists:%%{i}.ex.%s -all' % n)
            add('192.0.2.10.ex.' + n, {'A': '127.0.0.2'})
        elif k == 'exists_l':
            T('v=spf1 exists:%{l}.u.%{d} -all')
            add('alice.u.' + n, {'A': '127.0.0.2'})
        elif k == 'macro_ir':
            T('v=spf1 exists:%{ir}.%{v}._spf.%{d2} ~all')
            add('10.2.0.192.in-addr._spf.' + self.sfx, {'A': '127.0.0.2'})
        elif k == 'macro_upper':
            T('v=spf1 exists:%%{L}.%%{o}.up.%s -all' % self.sfx)
        elif k == 'broken':
            T(rng.choice(BROKEN))
        elif k == 'two':
            T('v=spf1 -all')
            T(rng.choice(['v=spf1 +all', 'V=SPF1 ?all']))
        elif k == 'none':
            add(n, {'A': '192.0.2.99'})
        elif k == 'txtonly':
            T(rng.choice(['hello world', 'v=spf10 -all', 'spf2.0/pra -all', 'v=spf1x']))
        elif k == 'servfail':
            add(n, 'SERVFAIL')
        elif k == 'txt_servfail':
            add(n, {'A': GOOD4})
            add(n, {'TXT': 'SERVFAIL'})
        elif k == 'multistr':
            add(n, {'TXT': ['v=spf1 ip4:192.0.2.10', rng.choice([' -all', '-all', ' ip4:203.0.113.0/24 ~all'])]})
        elif k == 'long':
            terms = ' '.join('ip4:10.%d.%d.0/24' % (rng.randint(0, 255), j) for j in range(30))
            T('v=spf1 %s %s -all' % (terms, rng.choice(['ip4:192.0.2.10', 'ip4:203.0.113.1'])))
        elif k == 'cname':
            add(n, {'CNAME': self.other(n)})
        elif k == 'nonascii':
            T(rng.choice(['v=spf1 ip4:192.0.2.10 -all exp=ex\u00e9.example', 'v=spf1 a:b\u00fccher.example -all',
                          'v=spf1 -all \u00e9']))
        elif k == 'upper':
            T('V=SPF1 IP4:192.0.2.10 -ALL')
        elif k == 'void':
            T('v=spf1 a:nx1.%s a:nx2.%s a:nx3.%s ip4:192.0.2.10 -all' % (n, n, n))
        elif k == 'toomany':
            for j in range(11):
                add('h%d.%s' % (j, n), {'A': '203.0.113.%d' % (j + 1)})
            T('v=spf1 ' + ' '.join('a:h%d.%s' % (j, n) for j in range(11)) + ' ip4:192.0.2.10 -all')
        elif k == 'include_none':
            T('v=spf1 include:nothing.%s -all' % n)
        elif k == 'include_fail':
            T('v=spf1 include:inc.%s ~all' % n)
            add('inc.' + n, {'TXT': 'v=spf1 -all'})
        elif k == 'redirect_none':
            T('v=spf1 redirect=nothing.%s' % n)
        elif k == 'mx_many':
            T('v=spf1 mx -all')
            for j in range(11):
                add(n, {'MX': [j, 'm%d.%s' % (j, n)]})
        elif k == 'idna':
            n2 = 'xn--bcher-kva.' + n
            add(n2, {'TXT': 'v=spf1 ip4:192.0.2.10 -all'})
            T('v=spf1 include:b\u00fccher.%s -all' % n if rng.random() < 0.3 else 'v=spf1 -all')
        elif k == 'spaces':
            T('v=spf1  ip4:192.0.2.10   -all ')
        elif k == 'bare':
            T('v=spf1')
        elif k == 'nomail_first':
            T('hello')
            T('v=spf1 -all')
        elif k == 'nomail_split':
            add(n, {'TXT': ['v=spf1 ', '-all']})
        elif k == 'spf_and_txt':
            add(n, {'SPF': 'v=spf1 +all'})
            T('v=spf1 -all')
        elif k == 'include_temp':
            T('v=spf1 ip4:192.0.2.10 include:t.%s -all' % n)
            add('t.' + n, 'TIMEOUT')
        elif k == 'timeout':
            add(n, 'TIMEOUT')
        elif k == 'macro_odd':
            m = rng.choice(ODD_MACROS)
            if rng.random() < 0.5:
                T('v=spf1 exists:%s.z.%s -all' % (m, self.sfx))
            else:
                T('v=spf1 ~all exp=exp.' + n)
                add('exp.' + n, {'TXT': 'X %s Y' % m})
        elif k == 'truncate':
            add(n, 'TRUNCATE')
            T(rng.choice(['v=spf1 ip4:192.0.2.10 -all', 'v=spf1 ' + ' '.join('ip4:10.9.%d.0/24' % j for j in range(40)) + ' ~all']))
        elif k == 'truncate_servfail':
            add(n, 'TRUNCATE')
            add(n, 'SERVFAIL')
        elif k == 'mx_cname':
            T('v=spf1 mx -all')
            add(n, {'MX': [10, 'alias.' + n]})
            add('alias.' + n, {'CNAME': 'real.' + n})
            add('real.' + n, {'A': GOOD4})
        elif k == 'helo_macro':
            T('v=spf1 a:%{h} exists:%{h}.h.' + self.sfx + ' ~all')
        elif k == 'ptr6':
            T('v=spf1 ptr:relay.example.org -all exp=exp.' + n)
            add('exp.' + n, {'TXT': '%{p} %{i} %{c} %{v} %{h}'})
        elif k == 'nxdomain':
            pass   # nothing at the name at all
        else:
            raise ValueError(k)


# ----------------------------------------------------------------- configs

def _pick(rng, p, values):
    return rng.choice(values) if rng.random() < p else None


def gen_config(rng, zone):
    """(text of policyd-spf.conf, dict of the values set, per-user file text or None)."""
    names = zone.names + ['trusted.example.net', 'relay.example.org']
    lists = {
        'skip_addresses': ['127.0.0.0/8,::ffff:127.0.0.0/104,::1', '192.0.2.0/24', '', '10.0.0.0/8, 192.0.2.10',
                           '192.0.2.10/24,127.0.0.0/8', '::ffff:192.0.2.0/120', '2001:db8::/32', ',127.0.0.1',
                           'bogus,192.0.2.10', '198.51.100.0/255.255.255.0', '0:0:0:0:0:0:0:1'],
        'Whitelist': ['192.0.2.10', '198.51.100.0/24', '10/8,192.0.2.10', '2001:db8::/64', '::ffff:192.0.2.10',
                      ' 192.0.2.10', '203.0.113.0/24,2001:DB8::10', ''],
        'Domain_Whitelist': lambda: ','.join(rng.sample(names, rng.randint(1, 2))) + rng.choice(['', ',', ', x']),
        'HELO_Whitelist': lambda: rng.choice(['relay.example.org', 'Relay.example.org',
                                              'alias.example.org,relay.example.org', rng.choice(names)]),
        'Domain_Whitelist_PTR': ['example.org', 'relay.example.org', '.org', 'evilexample.org', 'EXAMPLE.ORG', 'x'],
        'Reject_Not_Pass_Domains': lambda: ','.join(rng.choice(['mail.' + x, x, x.upper(), x.split('.', 1)[1]])
                                                    for x in rng.sample(names, 2)) + rng.choice(['', ',']),
    }
    pol = ['Fail', 'Softfail', 'SPF_Not_Pass', 'False', 'No_Check', 'Null', 'fail', 'softfail', 'FALSE',
           'No_check', '', 'Reject', 'true']
    keys = {
        'debugLevel': ['-1', '0', '1', '2', '3', '4', '5', '01', '+2'],
        'TestOnly': ['0', '1', '00', '-0', '2', '0_0'],
        'HELO_reject': pol,
        'Mail_From_reject': pol,
        'PermError_reject': ['True', 'True', 'True', 'False', 'true', 'TRUE', '1', 'yes', ''],
        'TempError_Defer': ['True', 'True', 'True', 'False', 'true', '1', ''],
        'Header_Type': ['SPF', 'AR', 'None', 'none', 'ar', 'spf', 'AR-ish', 'xAR', 'SPF,AR', '', 'Received-SPF'],
        'Hide_Receiver': ['No', 'Yes', 'no', 'NO', '', 'True'],
        'Authserv_Id': ['HOSTNAME', 'MX.Example.NET', 'mx', '', 'hostname', 'Mail Server', 'a"b', 'M\u00dc.example'],
        'SPF_Enhanced_Status_Codes': ['Yes', 'No', 'no', 'NO', '', 'False'],
        'Reason_Message': ['Message {rejectdefer} due to: {spf}. Please see {url}', 'SPF {rejectdefer}: {spf:.8} [{{see}} {url}]',
                           '{spf}', 'Rejected', '{rejectdefer!r} {url!s:>90}', '{spf:*^60}', '{url:.20}',
                           '{spf!a}', '{nope}', '{}', '{0}', '{spf[0]}', '{spf.upper}', '{spf:>{url}}',
                           '{spf:d}', '{spf:=>20}', '{spf:<}', '{{{spf}}}', '{spf', 'x}', '{rejectdefer:10.3s}|',
                           '{url!x}', 'caf\u00e9 {spf}', '{spf:020}', '{spf:,}', '{spf: >5s}', ' {spf} '],
        'No_Mail': ['True', 'False', 'true', ''],
        'HELO_pass_restriction': ['helo_class', 'spf_fin, passed_spf', ''],
        'Mail_From_pass_restriction': ['mf_class', 'permit', ''],
        'Prospective': [GOOD4, BAD4, GOOD6, '192.0.2.99', '', '::ffff:192.0.2.10', 'garbage'],
        'Lookup_Time': ['1', '2', '-1', '02'],
        'Whitelist_Lookup_Time': ['1', '2'],
        'Void_Limit': ['0', '1', '2', '3', '1_0', '-1'],
        'defaultSeedOnly': ['1', '0'],
        'Mock': ['False', 'True', 'no'],
        'QueueID': ['False'],
        'Envelope_From_Escape': ['No', 'Yes'],
    }
    probs = {'Mock': 0.02, 'QueueID': 0.05, 'defaultSeedOnly': 0.05, 'Envelope_From_Escape': 0.15,
             'Prospective': 0.08, 'TestOnly': 0.1, 'TempError_Defer': 0.35, 'PermError_reject': 0.35, 'Lookup_Time': 0.3, 'HELO_reject': 0.5,
             'Mail_From_reject': 0.5}
    vals = {}
    lines = []
    order = list(keys) + list(lists)
    rng.shuffle(order)
    for k in order:
        p = probs.get(k, 0.25 if k in keys else 0.15)
        if rng.random() >= p:
            continue
        src = keys.get(k) or lists[k]
        v = src() if callable(src) else rng.choice(src)
        vals[k] = v
        sep = rng.choice([' = ', '=', '\t=  ', ' =']) if v else rng.choice([' =', '=', ' = '])
        lines.append('%s%s%s' % (k, sep, v))
    # odd lexical forms now and then
    if rng.random() < 0.15:
        lines.append(rng.choice(['helo_reject = SPF_Not_Pass', '# a comment', '  ', 'Frobnicate = 1',
                                 'Reason_Message = a=b', 'no equals here', 'HELO_reject = Fail # trailing']))
        if lines[-1] == 'HELO_reject = Fail # trailing':
            vals['HELO_reject'] = 'Fail'
    if 'Lookup_Time' not in vals:
        lines.insert(0, 'Lookup_Time = 1')
        vals['Lookup_Time'] = '1'
    if 'Whitelist_Lookup_Time' not in vals:
        lines.insert(0, 'Whitelist_Lookup_Time = 1')
    peruser = None
    if rng.random() < 0.06:
        pu = ['bob@example.net,HELO_reject=False|Mail_From_reject=Softfail',
              'carol@example.net,Header_Type=AR|Hide_Receiver=Yes',
              'bob@example.net,TestOnly=1|PermError_reject=True']
        peruser = '\n'.join(rng.sample(pu, 2)) + '\n'
        vals['Per_User'] = 'text,PERUSER'
        lines.append('Per_User = text,PERUSER')
    return '\n'.join(lines) + '\n', vals, peruser


# ----------------------------------------------------------------- requests

def gen_requests(rng, zone):
    """A list of (bytes of one request block, dict of the attributes as sent)."""
    names = zone.names
    upper = lambda s: ''.join(c.upper() if rng.random() < 0.5 else c for c in s)  # noqa: E731
    clients = [GOOD4] * 12 + [BAD4] * 10 + [GOOD6] * 4 + [BAD6] * 2 + [
        '::ffff:192.0.2.10', '::FFFF:192.0.2.10', '2001:DB8:0:0::10', '127.0.0.1', '::1', '10.1.2.3',
        '', None, 'unknown', ' 192.0.2.10', '192.0.2.010', 'fe80::1', '0:0:0:0:0:ffff:c000:20a', '198.51.100.7 ', 'fe80::1%eth0']
    locals_ = ['alice'] * 4 + ['Alice', "o'brien", 'bob+tag', 'SRS0=HHH=TT=orig.example=al', 'postmaster',
                               '\u00c4rger', 'a"b', 'x\\y']

    def domain():
        d = rng.choice(names + ['trusted.example.net', 'nx.' + zone.sfx])
        r = rng.random()
        if r < 0.1:
            return upper(d)
        if r < 0.13:
            return d + '.'
        if r < 0.16 and zone.kinds.get(d) == 'idna':
            return 'B\u00fccher.' + d
        if r < 0.18:
            return 'xn--bcher-kva.' + d
        return d

    def sender():
        r = rng.random()
        if r < 0.1:
            return ''
        if r < 0.13:
            return None
        if r < 0.15:
            return rng.choice(['foo', 'alice@', 'a@b@' + rng.choice(names), '@' + rng.choice(names),
                               'MAILER-DAEMON'])
        return '%s@%s' % (rng.choice(locals_), domain())

    def helo(snd):
        r = rng.random()
        if r < 0.08:
            return ''
        if r < 0.11:
            return None
        if r < 0.2:
            return rng.choice(['[198.51.100.7]', 'localhost', '192.0.2.10', 'unknown.example.net',
                               'relay.example.org', 'RELAY.example.org', 'alias.example.org', 'a' * 64 + '.example',
                               'h\u00e9lo.example', '[IPv6:2001:db8::10]'])
        if r < 0.3 and snd and '@' in snd:
            return snd.split('@', 1)[1]
        return domain()

    rcpts = ['bob@example.net'] * 4 + ['Bob@Example.NET', '', None, 'postmaster', 'a@b@c', 'carol@example.net',
                                      'x@y.example']
    reqs = []
    n = rng.randint(1, 5)
    inst = None
    crlf = rng.random() < 0.1
    for i in range(n):
        if inst is None or rng.random() < 0.4:
            inst = rng.choice([None, '', 'i%d.%d' % (rng.randint(0, 99), i)])
            snd = sender()
            hl = helo(snd)
            cl = rng.choice(clients)
            qid = rng.choice([None, '', '', '4ABC%dDEF' % i])
        attrs = [('request', 'smtpd_access_policy'), ('protocol_state', rng.choice(['RCPT', 'RCPT', 'MAIL', 'DATA'])),
                 ('protocol_name', 'ESMTP'), ('client_address', cl), ('client_name', 'unknown'),
                 ('helo_name', hl), ('sender', snd), ('recipient', rng.choice(rcpts)), ('queue_id', qid),
                 ('instance', inst), ('size', '0'), ('sasl_username', rng.choice([None, '', 'alice']))]
        if rng.random() < 0.2:
            rng.shuffle(attrs)
        lines = []
        sent = {}
        for k, v in attrs:
            if v is None:
                continue
            sent[k] = v
            r = rng.random()
            if r < 0.02:
                lines.append('  %s=%s' % (k, v))          # leading blanks before the key
            elif r < 0.03:
                lines.append('%s =%s' % (k, v))           # blank before '='
            elif r < 0.035 and k in ('sender', 'client_address', 'helo_name'):
                lines.append('%s= %s' % (k, v))           # blank kept in the value
                sent[k] = ' ' + v
            elif r < 0.04 and k in ('sender', 'recipient', 'helo_name'):
                lines.append('%s=%s' % (k.upper(), v))    # unknown key: attribute absent
                del sent[k]
            elif r < 0.05:
                lines.append('%s=%s  \t' % (k, v))         # trailing blanks are stripped
            else:
                lines.append('%s=%s' % (k, v))
            if rng.random() < 0.01:
                lines.append(rng.choice(['junk line', '=novalue', 'bad key=x', '\x01ctl=1']))
        if rng.random() < 0.03:
            hv = rng.choice(['Mixed.CASE.example', 'a\rb.example', 'x\x01y.example', 'K\u212aelvin.example'])
            lines.append('helo_name=%s' % hv)   # a repeated key: the last one wins
            sent['helo_name'] = hv
        eol = '\r\n' if crlf else '\n'
        block = eol.join(lines) + eol + eol
        reqs.append((block.encode('utf-8'), sent))
    if rng.random() < 0.04:
        reqs.append((b'\n', {}))   # a stray empty line: Python answers it too
    return reqs


class Case:
    def __init__(self, seed):
        self.seed = seed
        rng = random.Random(seed)
        self.zone = Zone(seed, rng).build()
        self.conf, self.vals, self.peruser = gen_config(rng, self.zone)
        self.requests = gen_requests(rng, self.zone)

    def describe(self):
        z = {k: v for k, v in self.zone.z.items()}
        return 'seed %d\nzone: %r\nconfig:\n%s%s\nrequests:\n%s' % (
            self.seed, z, self.conf, ('peruser:\n' + self.peruser) if self.peruser else '',
            b''.join(b for b, _ in self.requests).decode('utf-8', 'replace'))


def merged_zone(cases):
    z = {k: list(v) for k, v in GLOBAL_ZONE.items()}
    for c in cases:
        for k, v in c.zone.z.items():
            z.setdefault(k, []).extend(v)
    return z


# ----------------------------------------------------------------- running

def replies(raw):
    text = raw.decode('utf-8', 'surrogateescape')
    return [blk for blk in text.split('\n\n') if blk]


def run_server(argv, conf, peruser, blocks, timeout, env=None, pids=None):
    d = tempfile.mkdtemp(prefix='pspf-rand.')
    os.chmod(d, 0o755)   # ours may drop privileges before reading the per-user file
    path = os.path.join(d, 'policyd-spf.conf')
    pu = os.path.join(d, 'peruser')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(conf.replace('PERUSER', pu))
    os.chmod(path, 0o644)
    if peruser:
        with open(pu, 'w', encoding='utf-8') as f:
            f.write(peruser)
        os.chmod(pu, 0o644)
    p = subprocess.Popen(list(argv) + [path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    if pids is not None:
        pids.append(p.pid)
    try:
        out, err = p.communicate(b''.join(blocks), timeout=timeout)
        return p.returncode, replies(out), err.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, replies(out or b''), 'timed out'
    finally:
        for f in (path, pu):
            if os.path.exists(f):
                os.unlink(f)
        os.rmdir(d)


PYENV = {'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8'}

WELL_FORMED = re.compile(r'^action=(prepend (Received-SPF|Authentication-Results|X-Comment): [^\r\n\x00]*'
                         r'|550( 5\.7\.2[34])? [^\r\n\x00]*|defer_if_permit( 4\.7\.24)? [^\r\n\x00]*'
                         r'|dunno|dunno mock header field that should be ignored|[^\r\n\x00]+)$')


def well_formed(rep, vals):
    if not WELL_FORMED.match(rep):
        return False
    body = rep[len('action='):]
    restr = [vals.get('HELO_pass_restriction'), vals.get('Mail_From_pass_restriction')]
    known = ('prepend ', '550', 'defer_if_permit', 'dunno')
    return body.startswith(known) or body in restr


CTL = re.compile('[\x00-\x08\x0a-\x1f\x7f]')


def unescape_envfrom(rep):
    m = re.search(r'envelope-from="((?:[^"\\]|\\.)*)"; receiver=', rep)
    if not m or not rep.startswith('action=prepend Received-SPF:'):
        return rep
    raw = re.sub(r'\\(.)', r'\1', m.group(1))
    return rep[:m.start()] + 'envelope-from=' + raw + '; receiver=' + rep[m.end():]


def _covered(c):
    o = ord(c)
    return o < 0x80 or 0xC0 <= o <= 0xDE or 0x100 <= o <= 0x17F or 0x400 <= o <= 0x52F


def _py_lower(s):
    """Our reply with the letters ours leaves alone lower-cased as Python would."""
    return ''.join(c if _covered(c) else c.lower() for c in s)


def _intended(case, i, py, ours, sent):
    """Name of the DIFFERENCES entry that explains py != ours, or None."""
    v = case.vals
    if CTL.sub('?', py) == ours:
        return 'control characters in request values are replaced by ? (BAD INPUT, Requests)'
    if v.get('Envelope_From_Escape') != 'No' and unescape_envfrom(ours) == CTL.sub('?', py):
        return 'Envelope_From_Escape = Yes: sender with = quoted and escaped'
    hr, mr = v.get('HELO_pass_restriction'), v.get('Mail_From_pass_restriction')
    if py in ('action=None', 'action=') and hr and not mr and ours == 'action=' + hr:
        # an empty Mail_From_pass_restriction is unset too (Python answers action=)
        return 'HELO_pass_restriction alone, both Pass: the HELO restriction instead of action=None'
    if hr and v.get('Mail_From_reject') == 'No_Check' and ours == 'action=' + hr and py.startswith('action=prepend'):
        return 'HELO_pass_restriction with Mail_From_reject = No_Check applies to the first recipient'
    if _py_lower(ours) == py and ours != py:
        return ('letters outside ASCII, Latin-1, Latin Extended-A and Cyrillic are not lower-cased '
                '(policyd-spf(8), Requests)')
    rm = v.get('Reason_Message', '')
    if re.search(r'\{[a-z_]*[\[.][^{}:!]*[}!:]|\{[^{}]*\{', rm) and \
            re.match(r'action=(550|defer_if_permit)( [0-9.]+)? Message (rejected|deferred) due to: ', ours):
        return ('Reason_Message with attribute/index access or a nested field: default template '
                '(policyd-spf.conf(5), Reason_Message)')
    if _has_txt(case, _odd_macro):
        return ('macro transformers follow RFC 7208 strictly (%{o+2}, %{d0}, %{dR}): Permerror / '
                'default explanation (DIFFERENCES)')
    if _has_txt(case, lambda t: '%{p}' in t) and 'ermerror' in py:
        return 'exp= with %{p}: the explanation never changes the result (DIFFERENCES)'
    ca = sent.get('client_address')
    if ca is not None and ca.strip() == '' and ours == 'action=dunno':
        return 'empty client_address: dunno without SPF checks'
    return None


# Bugs of ours found by this test, written up in the findings and not yet
# fixed.  Each: (id, predicate(case, index, python reply, our reply, sent)).
# A difference matching one is a TAP TODO: visible, not failing.
def _odd_macro(text):
    """A %{...} whose transformers pyspf reads differently from RFC 7208."""
    for rest in re.findall(r'%\{[a-zA-Z]([^}]*)\}', text):
        m = re.fullmatch(r'(\d*)(r?)([-.+,/_=]*)', rest)
        if not m or (m.group(1) and int(m.group(1)) == 0):
            return True
    return False


def _has_txt(case, pred):
    return any(isinstance(r, dict) and isinstance(r.get('TXT'), str) and pred(r['TXT'])
               for recs in case.zone.z.values() for r in recs)


def _has_ctl_txt(case):
    return any(isinstance(r, dict) and isinstance(r.get('TXT'), str) and re.search('[\x00-\x1f\x7f]', r['TXT'])
               for recs in case.zone.z.values() for r in recs)


KNOWN_BUGS = [
    ('F12 names with an ASCII xn-- label: Python finds no record (None), ours evaluates the record',
     lambda case, i, py, ours, sent: 'xn--' in (sent.get('helo_name') or '') + (sent.get('sender') or '')),
]


def case_known_bugs(case):
    """Known bugs whose trigger is in the case (zone or config): their
    effects can show in log lines even where the replies agree."""
    out = []
    if _has_txt(case, _odd_macro):
        out.append('F4 (intended: strict macro transformers)')
    if _has_txt(case, lambda t: '%{p}' in t):
        out.append('F5 (intended: exp %{p})')
    return out


def classify_pair(case, i, py, ours, sent, tainted):
    if py == ours:
        return 'same', None
    why = _intended(case, i, py, ours, sent)
    if why:
        return 'intended', why
    inst = sent.get('instance')
    if inst and inst in tainted:
        return 'intended', 'follows an intended or known difference earlier in the same instance %r' % inst
    for bid, pred in KNOWN_BUGS:
        try:
            if pred(case, i, py, ours, sent):
                return 'known', bid
        except Exception:
            pass
    return 'bug', None


def run_case(case, ours_argv, timeout_mult=1, syslog=None):
    """Run one case through both servers.  Returns a list of result dicts
    {i, kind, why, py, ours} and a list of problems with ours' output form."""
    blocks = [b for b, _ in case.requests]
    sents = [s for _, s in case.requests]
    lt = case.vals.get('Lookup_Time', '1')
    to = 30 + 6 * len(blocks) * max(1, int(lt.replace('_', '')) if lt.lstrip('+-').isdigit() else 1)
    out, problems = [], []
    start = 0
    tainted = set()
    logdiff = None
    while start < len(blocks) or start == 0:
        seg = blocks[start:]
        ppid, opid = [], []
        prc, prep, perr = run_server([PYSERVER], case.conf, case.peruser, seg, to, env=PYENV, pids=ppid)
        orc, orep, oerr = run_server(ours_argv, case.conf, case.peruser, seg, to * timeout_mult, pids=opid)
        if syslog is not None and start == 0 and prc == 0:
            logdiff = compare_logs(case, syslog.take(ppid[0]), syslog.take(opid[0]))
        if prc not in (0, 1):
            problems.append('python exit status %r: %s' % (prc, perr[-300:]))
        # a config Python refuses (exit 1, no reply at all): ours must refuse too
        if prc == 1 and not prep and 'Traceback' not in perr:
            if orc != 1 or orep:
                out.append({'i': start, 'kind': 'bug', 'why': 'python refused the config, ours did not',
                            'py': perr.strip()[-200:], 'ours': '%r rc=%r' % (orep, orc)})
            else:
                out.append({'i': start, 'kind': 'same', 'why': 'both refuse the config', 'py': '', 'ours': ''})
            return out, problems
        if orc != 0:
            problems.append('ours exit status %r: %s' % (orc, oerr[-300:]))
        for j, r in enumerate(orep):
            if not well_formed(r, case.vals):
                problems.append('ours: malformed reply %r' % r)
        nseg = len(seg)
        npy = len(prep)
        crashed = prc != 0 and npy < nseg
        # the stray empty line (b'\n') block yields one reply like a request
        if len(orep) != nseg:
            problems.append('ours gave %d replies to %d requests' % (len(orep), nseg))
        for j in range(min(npy, nseg)):
            s = sents[start + j]
            py, ou = prep[j], (orep[j] if j < len(orep) else '<none>')
            kind, why = classify_pair(case, start + j, py, ou, s, tainted)
            if kind in ('intended', 'known') and s.get('instance'):
                tainted.add(s['instance'])
            out.append({'i': start + j, 'kind': kind, 'why': why, 'py': py, 'ours': ou})
        if not crashed:
            if npy > nseg:
                problems.append('python gave %d replies to %d requests' % (npy, nseg))
            break
        k = start + npy   # the request Python died on
        exc = [ln for ln in perr.splitlines() if ln and not ln.startswith(' ')]
        crash = {'i': k, 'kind': 'crash', 'why': exc[-1] if exc else 'python died (rc %r)' % prc,
                 'py': '', 'ours': orep[npy] if npy < len(orep) else '<none>'}
        bad = crash_outcome(case, sents[k], crash['why'], crash['ours'])
        if bad:
            crash['kind'], crash['why'] = bad
        out.append(crash)
        if s_inst(sents[k]):
            tainted.add(sents[k]['instance'])
        start = k + 1
        if start >= len(blocks):
            break
    # logs are compared only where every reply was the same: an intended
    # or known reply difference has its own log lines
    if logdiff and all(x['kind'] == 'same' for x in out):
        kb = case_known_bugs(case)
        if logdiff[2]:
            kb.append('F11 (TAB logged as ?)')
        out.append({'i': -1, 'kind': 'known' if kb else 'logdiff',
                    'why': ('syslog lines differ, case has ' + ', '.join(kb)) if kb else 'syslog lines differ',
                    'py': logdiff[0], 'ours': logdiff[1]})
    return out, problems


def crash_outcome(case, sent, exc, ours):
    """Where DIFFERENCES documents our answer to a request Python dies on,
    check it: None if fine, else (kind, why)."""
    ca = sent.get('client_address')
    if ca is not None and ("'%s' does not appear to be an IPv4 or IPv6 address" % ca in exc or
                           ('AddressValueError' in exc and "'%s'" % ca in exc)) \
            and not case.vals.get('Prospective') and not ours.startswith('action=prepend X-Comment'):
        if ours != 'action=dunno':
            return 'bug', 'client_address is not an IP: DIFFERENCES says action=dunno'
    if 'Header_Type includes both SPF and AR' in exc and ours.startswith('action=prepend Received-SPF'):
        return 'bug', 'Header_Type with SPF and AR: DIFFERENCES says Authentication-Results'
    return None


def s_inst(s):
    return s.get('instance') or None


def shape(rep):
    """A short class of a reply, for the coverage summary."""
    m = re.match(r'action=prepend (Received-SPF: \w+ \((mailfrom)?|Authentication-Results: [^;]*; (spf=\w+|none)|X-Comment)', rep)
    if m:
        t = m.group(1)
        if t.startswith('Received-SPF'):
            return 'RS ' + t.split()[1] + (' mfrom' if m.group(2) else ' helo')
        return 'AR ' + (m.group(3) or '') if t.startswith('Auth') else 'X-Comment'
    m = re.match(r'action=(550|defer_if_permit)( [0-9.]+)? .*Why\?s=(\w+)', rep)
    if m:
        return '%s%s %s' % (m.group(1), m.group(2) or '', m.group(3))
    return rep[:30]


def compare_logs(case, pylog, olog):
    """None, or (python lines, our lines) when the syslog lines that both
    should write the same (debugLevel <= 2) differ."""
    dl = case.vals.get('debugLevel', '1').replace('_', '')
    try:
        if int(dl) > 2:
            return None
    except ValueError:
        return None
    if case.vals.get('Per_User') or case.vals.get('Mock'):
        return None

    def norm(lines, ours):
        out = []
        for prio, msg in lines:
            msg = re.sub(r'/tmp/pspf-rand\.[^/"]*/', 'CONF/', msg)
            k = msg.find('prepend Received-SPF')
            if ours and k >= 0 and case.vals.get('Envelope_From_Escape') != 'No':
                msg = msg[:k] + unescape_envfrom('action=' + msg[k:])[len('action='):]
            if not ours:
                msg = CTL.sub('?', msg)
                # a control byte inside a logged Python list repr (DIFFERENCES: control
                # bytes from DNS text are written as ?)
                msg = re.sub(r'\\x(0[0-8b-f]|1[0-9a-f]|7f)', '?', msg)
            else:
                # ours writes a control byte of a logged value as rsyslog
                # would store it (#015); Python sends it raw
                msg = re.sub('#0[0-3][0-7]', '?', msg)
            if msg.startswith('Ouch, caught exc') or 'Traceback' in msg:
                continue
            if not ours and 'Unknown name "Envelope_From_Escape"' in msg:
                continue
            if ours and OUR_ONLY_LOG.search(msg):
                continue
            out.append('<%d> %s' % (prio, msg))
        return out
    # ours reads ahead, so a bad line of a later request may be logged
    # before an earlier decision; Python logs strictly in input order
    p, o = sorted(norm(pylog, False)), sorted(norm(olog, True))
    if p == o:
        return None
    # findings F11: ours' log sanitiser writes a TAB as ?
    f11 = sorted(x.replace('\t', '?') for x in p) == o
    return ('\n'.join(p), '\n'.join(o), f11)


def parse_seeds(spec):
    seeds = []
    for part in spec.split(','):
        part = part.strip()
        if not part:
            continue
        if '-' in part:
            a, b = part.split('-', 1)
            seeds.extend(range(int(a), int(b) + 1))
        else:
            seeds.append(int(part))
    return seeds
