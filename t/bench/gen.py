#!/usr/bin/python3
"""Benchmark corpus generator: sender domains served by Knot DNS, Postfix
policy requests, and the action each request must get.

Everything comes from one seeded random generator, so the same --seed gives
byte-identical output.  The expected results are computed here, from the
records this script made, by evaluating each request with pyspf against an
in-memory copy of the zone (the same library the Python server uses, fed the
same data the DNS server will serve); the result mix is then checked against
what each request was designed to produce, so a generator bug shows up as a
failure here rather than as a "mismatch" later.

Output (in --out DIR):
  root.zone      the zone for Knot (root zone ".", so names look real)
  requests.txt   policy requests, Postfix format, blank-line terminated;
                 the recipients of one message are consecutive and share
                 an instance
  expected.txt   one normalised expected reply per request (see norm_*)
  summary.txt    counts by category and by expected action
"""

import argparse
import ipaddress
import os
import random
import socket
import sys
from collections import Counter, OrderedDict

sys.path.insert(0, '/usr/lib/python3/dist-packages')
import spf  # noqa: E402  (Debian's python3-spf, as the Python server uses)

WORDS = """acme alpha apex arc atlas aurora axis beacon birch blue bolt brook
cedar cobalt comet coral crest delta dune eagle echo ember falcon fern flint
forge fox garnet glade granite harbor hawk hazel helix indigo iris ivory jade
juniper karma kestrel lagoon lark laurel lumen lynx maple marble meadow mesa
nectar nimbus noble north oak onyx opal orbit osprey pine pixel polar prairie
quartz quill raven reef ridge river robin sable sage salt sierra silver slate
solar spruce stone summit swift tango terra thistle tide timber topaz tundra
umber valley vector velvet vista willow wren yarrow zenith zephyr""".split()
TLDS = ['com'] * 8 + ['net'] * 3 + ['org'] * 2 + ['de', 'fr', 'co.uk', 'io',
                                                    'nl', 'it', 'es']
RCPT_DOMAINS = ['example.net', 'mail.example.org', 'lists.example.net']


class Zone:
    """Names -> records, kept in insertion order for a stable zone file."""

    def __init__(self):
        self.rr = OrderedDict()

    def add(self, name, rtype, data, ttl=3600):
        self.rr.setdefault(name.lower(), []).append((rtype, data, ttl))

    def has(self, name):
        return name.lower() in self.rr

    def txt(self, name, text, ttl=3600, split=None):
        """A TXT record; long ones are split into several strings the way
        zone editors do it (at 255 bytes, or at a given width)."""
        width = split or 255
        parts = [text[i:i + width] for i in range(0, len(text), width)] or ['']
        self.add(name, 'TXT', tuple(parts), ttl)

    def write(self, path):
        with open(path, 'w') as f:
            f.write('$ORIGIN .\n$TTL 3600\n')
            f.write('. 86400 IN SOA ns.bench. hostmaster.bench. 1 3600 600 '
                    '86400 300\n. 86400 IN NS ns.bench.\n'
                    'ns.bench. 86400 IN A 127.0.0.1\n')
            for name, recs in self.rr.items():
                for rtype, data, ttl in recs:
                    if rtype == 'TXT':
                        val = ' '.join('"%s"' % s.replace('\\', '\\\\')
                                       .replace('"', '\\"') for s in data)
                    elif rtype == 'MX':
                        val = '%d %s.' % (data[0], data[1])
                    elif rtype == 'CNAME':
                        val = data + '.'
                    else:
                        val = data
                    f.write('%s. %d IN %s %s\n' % (name, ttl, rtype, val))

    # pyspf's DNS hook, shaped like pydns answers (as testspf.py does):
    # A as text, AAAA as 16 bytes, TXT as a tuple of bytes, MX as a pair;
    # a CNAME is followed by the target's records, as a server sends them.
    def lookup(self, name, qtype, strict=True, timeout=None, depth=0):
        labels = [x for x in name.split('.') if x]
        for x in labels:
            if len(x) > 63:
                raise spf.TempError('DNS label too long')
        key = '.'.join(labels).lower()
        out = []
        for rtype, data, _ in self.rr.get(key, []):
            if rtype == 'CNAME' and qtype != 'CNAME':
                out.append(((key, 'CNAME'), data))
                if depth < 8:
                    out.extend(self.lookup(data, qtype, strict, timeout,
                                           depth + 1))
                continue
            if rtype != qtype:
                continue
            if rtype == 'AAAA':
                data = socket.inet_pton(socket.AF_INET6, data)
            elif rtype == 'TXT':
                data = tuple(s.encode() for s in data)
            out.append(((key, rtype), data))
        return out


class Gen:
    def __init__(self, seed, ndomains):
        self.r = random.Random(seed)
        self.z = Zone()
        self.ndomains = ndomains
        self.used_names = set()
        self.used_nets = set()
        self.providers = []     # dicts: name, include, ip4 nets, ip6 nets, helos
        self.domains = []       # dicts: name, kind, auth4, auth6, helos
        self.v6n = 0

    # --- address space -------------------------------------------------
    def net4(self, plen):
        """A fresh public-looking IPv4 network (all fake: nothing here ever
        leaves the private network namespace)."""
        while True:
            a = self.r.choice([x for x in range(11, 224)
                               if x not in (100, 127, 169, 172, 192, 198)])
            n = ipaddress.ip_network('%d.%d.%d.0/%d' % (
                a, self.r.randrange(256), self.r.randrange(256), plen),
                strict=False)
            if n not in self.used_nets:
                self.used_nets.add(n)
                return n

    def net6(self, plen=48):
        self.v6n += 1
        # every network sits in its own /32, so any prefix length >= 32 works
        return ipaddress.ip_network('2a%02x:%x::/%d' % (
            self.v6n >> 16, self.v6n & 0xffff, plen))

    def host_in(self, net):
        n = net.num_addresses
        if n <= 2:
            return str(net.network_address)
        return str(net.network_address + self.r.randrange(1, n - 1))

    def random_ip4(self):
        while True:
            ip = '%d.%d.%d.%d' % (self.r.choice(range(1, 224)),
                                  self.r.randrange(256), self.r.randrange(256),
                                  self.r.randrange(1, 255))
            a = ipaddress.ip_address(ip)
            if a.is_global and not any(a in n for n in self.used_nets):
                return ip

    def random_ip6(self):
        return '2001:db8:ffff:%x::%x' % (self.r.randrange(65536),
                                         self.r.randrange(1, 65536))

    def name(self, tld=None):
        while True:
            w = self.r.choice(WORDS)
            if self.r.random() < 0.6:
                w += self.r.choice(['', '-']) + self.r.choice(WORDS)
            if self.r.random() < 0.3:
                w += str(self.r.randrange(2, 99))
            n = '%s.%s' % (w, tld or self.r.choice(TLDS))
            if n not in self.used_names:
                self.used_names.add(n)
                return n

    # --- shared providers ------------------------------------------------
    def provider(self, base, shape):
        """A mail provider whose SPF chains several levels deep, as the large
        ones do: entry -> per-region lists -> netblocks (-> more)."""
        z, r = self.z, self.r
        p = {'base': base, 'ip4': [], 'ip6': [], 'helos': []}
        ttl = r.choice([300, 900, 3600])

        def block(name, n4, n6, more=()):
            nets4 = [self.net4(r.choice([18, 19, 20, 21, 22, 24]))
                     for _ in range(n4)]
            nets6 = [self.net6(r.choice([32, 36, 44, 48])) for _ in range(n6)]
            p['ip4'] += nets4
            p['ip6'] += nets6
            terms = ['ip4:%s' % n for n in nets4] + ['ip6:%s' % n for n in nets6]
            terms += ['include:%s' % m for m in more]
            z.txt(name, 'v=spf1 ' + ' '.join(terms) + ' ~all', ttl)

        if shape == 'deep4':        # entry, 3 lists, one of them nests twice
            block('_nb3b.' + base, 6, 2)
            block('_nb3.' + base, 8, 3, ['_nb3b.' + base])
            block('_nb2.' + base, 14, 4)
            block('_nb1.' + base, 16, 6)
            z.txt('_spf.' + base, 'v=spf1 include:_nb1.%s include:_nb2.%s '
                  'include:_nb3.%s ~all' % (base, base, base), ttl)
            z.txt(base, 'v=spf1 redirect=_spf.' + base, ttl)
            p['include'] = '_spf.' + base
            p['cost'] = 5
        elif shape == 'deep3':      # entry with -all, two regional lists
            block('spfb.protection.' + base, 10, 4)
            block('spfa.protection.' + base, 12, 4)
            z.txt('spf.protection.' + base, 'v=spf1 include:spfa.protection.%s '
                  'include:spfb.protection.%s -all' % (base, base), ttl)
            z.txt(base, 'v=spf1 include:spf.protection.%s -all' % base, ttl)
            p['include'] = 'spf.protection.' + base
            p['cost'] = 3
        elif shape == 'cname':      # entry behind a CNAME, one list below
            block('_spf1.' + base, 9, 2)
            block('_spf2.' + base, 5, 0)
            z.txt('spf-main.' + base, 'v=spf1 include:_spf1.%s include:_spf2.%s'
                  ' ~all' % (base, base), ttl)
            z.add('_spf.' + base, 'CNAME', 'spf-main.' + base, ttl)
            z.txt(base, 'v=spf1 include:_spf.%s ~all' % base, ttl)
            p['include'] = '_spf.' + base
            p['cost'] = 3
        else:                        # flat: one long list
            block('_spf.' + base, 20, 2)
            z.txt(base, 'v=spf1 include:_spf.%s -all' % base, ttl)
            p['include'] = '_spf.' + base
            p['cost'] = 1
        # outbound hosts: A/AAAA, no SPF (HELO check gives None)
        for i in range(30):
            h = 'o%d.mta%d.%s' % (r.randrange(1, 99), i, base)
            ip = self.host_in(r.choice(p['ip4']))
            z.add(h, 'A', ip, ttl)
            p['helos'].append((h, ip))
        self.providers.append(p)
        return p

    # --- sender domains ------------------------------------------------------
    def decoys(self, d):
        r = self.r
        if r.random() < 0.4:
            self.z.txt(d, 'google-site-verification=%032x' % r.getrandbits(128))
        if r.random() < 0.2:
            self.z.txt(d, 'MS=ms%08d' % r.randrange(10 ** 8))

    def mx_hosts(self, d, n):
        r, z = self.r, self.z
        hosts = []
        z_net = self.net4(r.choice([24, 26, 28]))
        for i in range(n):
            h = 'mx%d.%s' % (i + 1, d) if r.random() < 0.7 else \
                'mail%d.%s' % (i + 1, d)
            ip = self.host_in(z_net)
            z.add(h, 'A', ip)
            ip6 = None
            if r.random() < 0.4:
                ip6 = self.host_in(self.net6(64))
                z.add(h, 'AAAA', ip6)
            z.add(d, 'MX', ((i + 1) * 10, h))
            hosts.append((h, ip, ip6))
        return hosts

    def domain(self):
        r, z = self.r, self.z
        d = self.name()
        dom = {'name': d, 'auth4': [], 'auth6': [], 'helos': [], 'all': None}
        k = r.random()
        qual = r.choices(['-all', '~all', '?all'], [45, 45, 10])[0]
        dom['all'] = qual
        self.decoys(d)
        if k < 0.32:
            kind = 'provider'
            provs = r.sample(self.providers, r.choice([1, 1, 1, 2, 2, 3]))
            cost = sum(p['cost'] for p in provs)
            own = [self.net4(r.choice([24, 27, 28, 29]))
                   for _ in range(r.choice([0, 0, 1, 2]))]
            terms = ['ip4:%s' % n for n in own]
            terms += ['include:' + p['include'] for p in provs]
            if r.random() < 0.3:
                terms.insert(0, 'mx')
                cost += 1
                hosts = self.mx_hosts(d, r.choice([1, 2]))
                dom['auth4'] += [h[1] for h in hosts]
                dom['helos'] += [(h[0], h[1]) for h in hosts]
            else:
                self.mx_hosts(d, 1)
            z.txt(d, 'v=spf1 ' + ' '.join(terms) + ' ' + qual)
            for p in provs:
                dom['auth4'] += [self.host_in(r.choice(p['ip4'])) for _ in range(3)]
                dom['auth6'] += [self.host_in(r.choice(p['ip6']))]
                dom['helos'] += r.sample(p['helos'], 3)
            dom['auth4'] += [self.host_in(n) for n in own]
            if cost > 10:   # as real domains with too many providers do
                kind = 'provider-over-limit'
        elif k < 0.47:
            kind = 'mx-a'
            hosts = self.mx_hosts(d, r.choice([1, 2, 2, 3]))
            web = self.host_in(self.net4(24))
            z.add(d, 'A', web)
            z.txt(d, 'v=spf1 mx a ' + qual)
            dom['auth4'] += [h[1] for h in hosts] + [web]
            dom['auth6'] += [h[2] for h in hosts if h[2]]
            dom['helos'] += [(h[0], h[1]) for h in hosts]
            dom['helos'] += [(h[0], h[2]) for h in hosts if h[2]]
            dom['helos'] += [('www.' + d, web)]
            for h in hosts:
                if r.random() < 0.3:    # a well-kept MTA with its own HELO SPF
                    z.txt(h[0], 'v=spf1 a -all')
        elif k < 0.62:
            kind = 'iplist'
            n4 = r.choice([2, 3, 4, 6, 8, 12, 24, 30])
            nets = [self.net4(r.choice([24, 25, 26, 27, 28, 32])) for _ in range(n4)]
            nets6 = [self.net6(r.choice([48, 56, 64])) for _ in range(r.choice([0, 1, 2, 4]))]
            terms = ['ip4:%s' % n for n in nets] + ['ip6:%s' % n for n in nets6]
            text = 'v=spf1 ' + ' '.join(terms) + ' ' + qual
            z.txt(d, text, split=r.choice([None, None, 200, 250]))
            self.mx_hosts(d, 1)
            dom['auth4'] += [self.host_in(r.choice(nets)) for _ in range(4)]
            dom['auth6'] += [self.host_in(n) for n in nets6[:2]]
            kind = 'iplist-long' if len(text) > 255 else kind
        elif k < 0.68:
            kind = 'redirect'
            tgt = '_spf.' + d
            nets = [self.net4(r.choice([24, 26])) for _ in range(3)]
            z.txt(d, 'v=spf1 redirect=' + tgt)
            incl = ''
            if r.random() < 0.5:
                p = r.choice(self.providers)
                incl = ' include:' + p['include']
                dom['auth4'] += [self.host_in(r.choice(p['ip4']))]
            z.txt(tgt, 'v=spf1 ' + ' '.join('ip4:%s' % n for n in nets) + incl + ' ' + qual)
            dom['auth4'] += [self.host_in(n) for n in nets]
            self.mx_hosts(d, 1)
        elif k < 0.73:
            kind = 'cname'
            # the domain includes its hoster's record through a CNAME
            hoster = 'spf.hosting%d.net' % r.randrange(1, 6)
            if not z.has(hoster):
                net = self.net4(20)
                z.txt(hoster, 'v=spf1 ip4:%s a:relay.%s ~all' % (net, hoster), 3600)
                z.add('relay.' + hoster, 'A', self.host_in(self.net4(28)))
                self.hosters = getattr(self, 'hosters', {})
                self.hosters[hoster] = net
            z.add('_spf.' + d, 'CNAME', hoster)
            z.txt(d, 'v=spf1 include:_spf.%s %s' % (d, qual))
            self.mx_hosts(d, 1)
            dom['auth4'] += [self.host_in(self.hosters[hoster]) for _ in range(3)]
        elif k < 0.76:
            kind = 'cname-bounce'
            # a bounce subdomain that is a CNAME to an ESP's per-customer name
            p = r.choice(self.providers)
            d0 = d
            d = 'bounces.' + d0
            dom['name'] = d
            tgt = 'u%d.wl.%s' % (r.randrange(10 ** 6), p['base'])
            z.txt(tgt, 'v=spf1 include:%s -all' % p['include'])
            z.add(d, 'CNAME', tgt)
            z.txt(d0, 'v=spf1 mx -all')
            self.mx_hosts(d0, 1)
            dom['auth4'] += [self.host_in(r.choice(p['ip4'])) for _ in range(3)]
            dom['helos'] += r.sample(p['helos'], 2)
            dom['all'] = '-all'
        elif k < 0.81:
            kind = 'macro'
            z.txt(d, 'v=spf1 exists:%%{i}._spf.%%{d} %s' % qual)
            net = self.net4(26)
            for _ in range(12):
                ip = self.host_in(net)
                if not z.has('%s._spf.%s' % (ip, d)):
                    z.add('%s._spf.%s' % (ip, d), 'A', '127.0.0.2')
                dom['auth4'].append(ip)
            self.mx_hosts(d, 1)
        elif k < 0.93:
            kind = 'nospf'
            if r.random() < 0.5:
                self.mx_hosts(d, 1)
                z.add(d, 'A', self.host_in(self.net4(24)))
            else:
                z.txt(d, 'v=DMARC1-like text, not spf')
            dom['all'] = None
        elif k < 0.95:
            kind = 'nxdomain'
            dom['all'] = None       # nothing at all for this name
        else:
            kind = 'broken'
            b = r.choice(['two', 'syntax-ip', 'syntax-mech', 'syntax-include',
                          'lookups', 'void', 'redirect-none', 'include-none'])
            kind = 'broken-' + b
            net = self.net4(24)
            if b == 'two':
                z.txt(d, 'v=spf1 ip4:%s -all' % net)
                z.txt(d, 'v=spf1 include:%s ~all' % r.choice(self.providers)['include'])
            elif b == 'syntax-ip':
                z.txt(d, 'v=spf1 ip4:%s.300 -all' % '.'.join(str(net.network_address).split('.')[:3]))
            elif b == 'syntax-mech':
                z.txt(d, 'v=spf1 ip4:%s mx:%s; ~all' % (net, d))
            elif b == 'syntax-include':
                z.txt(d, 'v=spf1 include -all')
            elif b == 'lookups':
                for i in range(12):
                    z.add('h%d.%s' % (i, d), 'A', self.host_in(self.net4(28)))
                z.txt(d, 'v=spf1 ' + ' '.join('a:h%d.%s' % (i, d) for i in range(12))
                      + ' ip4:%s -all' % net)
            elif b == 'void':
                z.txt(d, 'v=spf1 a:gone1.%s a:gone2.%s mx:gone3.%s ip4:%s -all'
                      % (d, d, d, net))
            elif b == 'redirect-none':
                z.txt(d, 'v=spf1 redirect=nospf.' + d)
                z.add('nospf.' + d, 'A', self.host_in(net))
            elif b == 'include-none':
                z.txt(d, 'v=spf1 include:missing.%s -all' % d)
            dom['auth4'] += [self.host_in(net)]
            dom['all'] = None
        dom['kind'] = kind
        if not dom['helos']:
            dom['helos'] = [('mail.' + dom['name'], None)]
        self.domains.append(dom)
        return dom

    def build(self):
        for base, shape in [('bigmail.com', 'deep4'), ('mscloud.net', 'deep3'),
                            ('mailgunny.org', 'cname'), ('sendbox.net', 'flat'),
                            ('mxroute.io', 'deep3'), ('postal.co.uk', 'cname'),
                            ('fastmail.example', 'deep4'), ('sesmail.com', 'flat')]:
            self.used_names.add(base)
            self.provider(base, shape)
        for _ in range(self.ndomains):
            self.domain()


# --- policy mapping (Python server, default Debian config) -----------------
#   HELO_reject=Fail, Mail_From_reject=Fail, PermError_reject=False,
#   TempError_Defer=False; see /work/shared/reference/pypolicyd-spf.md §4.
def pyresult(zone, ip, sender, helo):
    spf.DNSLookup = zone.lookup
    res = spf.query(i=ip, s=sender, h=helo, querytime=20).check()
    return res[0].lower().capitalize()


def expected_first(zone, ip, sender, helo):
    """Normalised reply for the first recipient of a message."""
    if not helo:
        helo = sender.split('@', 1)[1] if '@' in sender else 'unknown'
    h = pyresult(zone, ip, 'postmaster@' + helo, helo)
    if h == 'Fail':
        return 'reject 550 5.7.23 helo', h, None
    if sender == '':
        return 'prepend Received-SPF %s helo' % h, h, None
    m = pyresult(zone, ip, sender, helo)
    if m == 'Fail':
        return 'reject 550 5.7.23 mfrom', h, m
    if m != 'None' or h == 'None':
        return 'prepend Received-SPF %s mailfrom' % m, h, m
    return 'prepend Received-SPF %s helo' % h, h, m


def replay(first):
    return 'dunno' if first.startswith('prepend') else first


def requests(g, nmsg):
    r = g.r
    doms = g.domains
    # popularity: a few senders send most mail (Zipf-like weights)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(doms))]
    order = list(range(len(doms)))
    r.shuffle(order)
    msgs = []
    cats = Counter()
    pid = 0x2f00
    t0 = 1764643200
    for m in range(nmsg):
        dom = doms[order[r.choices(range(len(doms)), weights)[0]]]
        d = dom['name']
        want = r.random()
        v6 = False
        if want < 0.55 and (dom['auth4'] or dom['auth6']):
            cat = 'authorized'
            if dom['auth6'] and r.random() < 0.2:
                ip = r.choice(dom['auth6'])
                v6 = True
            elif dom['auth4']:
                ip = r.choice(dom['auth4'])
            else:
                ip = r.choice(dom['auth6'])
                v6 = True
            cands = [h for h in dom['helos'] if h[1] == ip]
            helo = cands[0][0] if cands else r.choice(dom['helos'])[0]
        else:
            cat = 'unauthorized'
            if r.random() < 0.12:
                ip = g.random_ip6()
                v6 = True
            else:
                ip = g.random_ip4()
            x = r.random()
            if x < 0.15:
                helo = d                         # forged: HELO as the domain
                cat = 'forged-helo'
            elif x < 0.18:
                helo = '[%s]' % ip if not v6 else 'localhost'
            else:
                helo = 'host-%s.dyn.%s' % (ip.replace('.', '-').replace(':', '-'),
                                           r.choice(['isp-one.net', 'cable.example',
                                                     'broadband.co.uk']))
        if v6:
            cat += '-v6'
        local = r.choice(['info', 'noreply', 'news', 'billing', 'support', 'alerts',
                          'john.smith', 'mary', 'bounce+%x' % r.getrandbits(32)])
        sender = '%s@%s' % (local, d)
        if r.random() < 0.05:
            sender = ''                          # bounces: null sender
            cat += '-null'
        nrcpt = r.choices([1, 2, 3, 5], [75, 15, 7, 3])[0]
        rdom = r.choice(RCPT_DOMAINS)
        inst = '%x.%x.%x.%x' % (pid + m % 97, t0 + m // 7, r.randrange(10 ** 6), m % 3)
        qid = '%X' % r.getrandbits(40)
        first, h, mres = expected_first(g.z, ip, sender, helo)
        cats[(cat, dom['kind'], first.split()[0] + ':' + (mres or h))] += 1
        reqs = []
        for k in range(nrcpt):
            attrs = OrderedDict([
                ('request', 'smtpd_access_policy'), ('protocol_state', 'RCPT'),
                ('protocol_name', 'ESMTP'), ('client_address', ip),
                ('client_name', 'unknown'), ('client_port', str(r.randrange(1024, 65536))),
                ('reverse_client_name', 'unknown'), ('server_address', '10.0.0.25'),
                ('server_port', '25'), ('helo_name', helo), ('sender', sender),
                ('recipient', 'user%d@%s' % (r.randrange(5000), rdom)),
                ('recipient_count', '0'), ('queue_id', qid if k else ''),
                ('instance', inst), ('size', str(r.randrange(2000, 200000))),
                ('etrn_domain', ''), ('stress', ''), ('sasl_method', ''),
                ('sasl_username', ''), ('sasl_sender', ''), ('ccert_subject', ''),
                ('ccert_issuer', ''), ('ccert_fingerprint', ''),
                ('ccert_pubkey_fingerprint', ''), ('encryption_protocol', 'TLSv1.3'),
                ('encryption_cipher', 'TLS_AES_256_GCM_SHA384'),
                ('encryption_keysize', '256'), ('policy_context', ''),
            ])
            reqs.append((attrs, first if k == 0 else replay(first)))
        msgs.append(reqs)
    return msgs, cats


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=7208)
    ap.add_argument('--domains', type=int, default=2000)
    ap.add_argument('--messages', type=int, default=12000)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    g = Gen(a.seed, a.domains)
    g.build()
    msgs, cats = requests(g, a.messages)
    g.z.write(os.path.join(a.out, 'root.zone'))
    acts = Counter()
    nreq = 0
    with open(os.path.join(a.out, 'requests.txt'), 'w') as rf, \
            open(os.path.join(a.out, 'expected.txt'), 'w') as ef:
        for m in msgs:
            for attrs, exp in m:
                rf.write(''.join('%s=%s\n' % kv for kv in attrs.items()) + '\n')
                ef.write(exp + '\n')
                acts[exp] += 1
                nreq += 1
    kinds = Counter(d['kind'] for d in g.domains)
    long_txt = sum(1 for recs in g.z.rr.values() for t, v, _ in recs
                   if t == 'TXT' and len(v) > 1)
    with open(os.path.join(a.out, 'summary.txt'), 'w') as f:
        f.write('seed %d: %d domains, %d names, %d messages, %d requests, '
                '%d multi-string TXT records\n' % (a.seed, len(g.domains),
                                                   len(g.z.rr), len(msgs), nreq, long_txt))
        f.write('\ndomain kinds:\n')
        for k, v in sorted(kinds.items()):
            f.write('  %-22s %d\n' % (k, v))
        f.write('\nexpected replies:\n')
        for k, v in sorted(acts.items(), key=lambda x: -x[1]):
            f.write('  %-45s %d\n' % (k, v))
        f.write('\nmessages by (client category, domain kind, first action:result):\n')
        for k, v in sorted(cats.items()):
            f.write('  %-60s %d\n' % (' '.join(k), v))
    check_mix(acts, kinds, cats)
    print('gen: %d domains, %d messages, %d requests -> %s' % (
        len(g.domains), len(msgs), nreq, a.out))


def check_mix(acts, kinds, cats):
    """The corpus must contain what it claims; a generator change that
    silently loses a category fails here."""
    need = ['prepend Received-SPF Pass mailfrom', 'reject 550 5.7.23 mfrom',
            'reject 550 5.7.23 helo', 'prepend Received-SPF Softfail mailfrom',
            'prepend Received-SPF Neutral mailfrom',
            'prepend Received-SPF None mailfrom',
            'prepend Received-SPF Permerror mailfrom', 'dunno']
    missing = [n for n in need if acts[n] == 0]
    # designed outcomes: authorized IPs of working domains must pass
    bad = sum(v for (cat, kind, res), v in cats.items()
              if cat == 'authorized' and not kind.startswith(('broken', 'nospf', 'nx'))
              and not kind.endswith('over-limit')
              and not res.endswith('Pass'))
    if missing or bad:
        sys.exit('gen: corpus check failed: missing %s, %d authorized-but-not-pass'
                 % (missing, bad))


if __name__ == '__main__':
    main()
