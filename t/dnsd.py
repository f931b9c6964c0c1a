#!/usr/bin/python3
# dnsd.py - the test suite's DNS server: a real process answering on
# 127.0.0.1 over UDP and TCP from a zone written in the YAML shape of the
# RFC 7208 test suite (`zonedata`).
#
# Usage:
#   t/dnsd.py --port N [--addr A] [--zone FILE.yml]
#             [--suite FILE.yml[.gz] --scenario K] [--delay-ms N]
#             [--pidfile F] [--log F] [--neg-ttl N] [--[no-]spf-to-txt]
#             [--exit-on-stdin-eof]
#
# --port 0 picks a free port (the same number for UDP and TCP); once both
# sockets are bound the server prints "ready PORT" on stdout.
# --scenario all (with --suite, --port 0) serves every scenario of the
# suite file, each on its own free port, and prints "ready P0 P1 ..." in
# scenario order; log lines then start with "sN ".
#
# Zone: name -> list of records, each a one-key mapping or a bare word:
#   TXT: "text" | TXT: ["s1", "s2"]   one record, one or more strings
#                                     (a string over 255 bytes is split)
#   TXT: NONE                         no record; only stops SPF->TXT copy
#   SPF: ...                          type 99, same shape as TXT
#   A: 192.0.2.1   AAAA: 2001:db8::1   MX: [10, mx.example.com]
#   PTR: host.example.com   CNAME: target.example.com
#   TTL: n                            TTL of the records that follow (3600)
#   TIMEOUT                           queries of a type not listed above
#                                     this line get no answer, ever
#   SERVFAIL                          same, but answered with rcode 2
#   TRUNCATE                          UDP answers carry TC and no records
#   SPOOF                             each UDP answer is preceded by four
#                                     forged NXDOMAIN answers (wrong ID,
#                                     other source port, other name, other
#                                     type) and itself held back 100 ms
#   <TYPE>: TIMEOUT / <TYPE>: SERVFAIL  only that type
#   DELAY: ms                         answers for the name (UDP and TCP)
#                                     are held back that long (on top of
#                                     --delay-ms)
# Names are case-insensitive.  A name missing from the zone is NXDOMAIN; a
# name without records of the asked type is NODATA (both with a SOA whose
# TTL is --neg-ttl).  A query at a CNAME name gets the CNAME chain and the
# final target's records, as a recursive resolver would give them.
#
# As the RFC suite drivers do, a suite scenario's SPF records are also
# served as TXT records for names that have no TXT entry (--spf-to-txt is
# on by default with --suite and off with --zone).
#
# Why a hand-written wire encoder: records must come out byte for byte as
# written (odd bytes, several strings, case), and garbage queries must never
# take the server down.

import argparse
import asyncio
import gzip
import os
import signal
import socket
import struct
import sys

import yaml

T_A, T_NS, T_CNAME, T_SOA, T_PTR, T_MX, T_TXT, T_AAAA = 1, 2, 5, 6, 12, 15, 16, 28
T_SPF, T_OPT, T_ANY = 99, 41, 255
TYPES = {'A': T_A, 'NS': T_NS, 'CNAME': T_CNAME, 'SOA': T_SOA, 'PTR': T_PTR,
         'MX': T_MX, 'TXT': T_TXT, 'AAAA': T_AAAA, 'SPF': T_SPF}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
TYPE_NAMES[T_ANY] = 'ANY'
RCODES = {0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN',
          4: 'NOTIMP', 5: 'REFUSED'}
DEFAULT_TTL = 3600
LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
MAX_CNAME_HOPS = 16


class ZoneError(Exception):
    pass


def name_key(name):
    """Lookup key of a textual zone name: tuple of lower-cased labels."""
    if isinstance(name, bytes):
        raw = name
    else:
        raw = str(name).encode('utf-8')
    raw = raw.rstrip(b'.') if raw != b'.' else b''
    if raw == b'':
        return ()
    return tuple(l.lower() for l in raw.split(b'.'))


def encode_name(name):
    """Wire form of a textual name (no compression)."""
    if isinstance(name, bytes):
        raw = name
    else:
        raw = str(name).encode('utf-8')
    raw = raw.rstrip(b'.')
    out = bytearray()
    if raw:
        for label in raw.split(b'.'):
            if not label or len(label) > 63:
                raise ZoneError('cannot encode name %r' % (name,))
            out.append(len(label))
            out += label
    out.append(0)
    if len(out) > 255:
        raise ZoneError('name too long: %r' % (name,))
    return bytes(out)


def txt_strings(value):
    """TXT/SPF rdata: each YAML string becomes one or more <=255 byte
    character-strings, encoded as UTF-8 (which is how the suite's drivers
    hand them to the engines)."""
    if isinstance(value, (str, bytes)):
        value = [value]
    if not isinstance(value, list):
        value = [str(value)]
    out = bytearray()
    for s in value:
        b = s if isinstance(s, bytes) else str(s).encode('utf-8')
        if b == b'':
            out.append(0)
            continue
        for i in range(0, len(b), 255):
            chunk = b[i:i + 255]
            out.append(len(chunk))
            out += chunk
    if not out:
        out.append(0)
    return bytes(out)


def encode_rdata(rtype, value, owner):
    try:
        if rtype == T_A:
            return socket.inet_pton(socket.AF_INET, str(value).strip())
        if rtype == T_AAAA:
            return socket.inet_pton(socket.AF_INET6, str(value).strip())
        if rtype in (T_TXT, T_SPF):
            return txt_strings(value)
        if rtype == T_MX:
            if not isinstance(value, list) or len(value) != 2:
                raise ZoneError('MX wants [pref, host]')
            return struct.pack('>H', int(value[0])) + encode_name(value[1])
        if rtype in (T_PTR, T_CNAME, T_NS):
            return encode_name(value)
    except (OSError, ValueError, TypeError) as e:
        raise ZoneError('%s: bad %s data %r: %s' %
                        (owner, TYPE_NAMES.get(rtype), value, e))
    raise ZoneError('%s: unsupported type %r' % (owner, rtype))


class Node:
    """Everything the zone says about one name."""

    def __init__(self, name):
        self.name = name
        self.records = []          # (type, ttl, rdata, target-key or None)
        self.silent = None         # types answered despite TIMEOUT (set) or None
        self.servfail = None       # same for SERVFAIL
        self.type_silent = set()   # <TYPE>: TIMEOUT
        self.type_servfail = set()
        self.truncate = False
        self.spoof = False
        self.delay = 0.0
        self.has_txt_entry = False

    def types_so_far(self):
        return {r[0] for r in self.records}


def load_node(name, entries, spf_to_txt):
    node = Node(name)
    ttl = DEFAULT_TTL
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ZoneError('%s: records must be a list' % name)
    spf_copies = []
    for ent in entries:
        if isinstance(ent, str):
            word = ent.strip().upper()
            if word == 'TIMEOUT':
                if node.silent is None:
                    node.silent = node.types_so_far()
            elif word == 'SERVFAIL':
                if node.servfail is None:
                    node.servfail = node.types_so_far()
            elif word == 'TRUNCATE':
                node.truncate = True
            elif word == 'SPOOF':
                node.spoof = True
            else:
                raise ZoneError('%s: unknown entry %r' % (name, ent))
            continue
        if not isinstance(ent, dict) or len(ent) != 1:
            raise ZoneError('%s: record must be a one-key mapping: %r' % (name, ent))
        (tname, value), = ent.items()
        tname = str(tname).upper()
        if tname == 'TTL':
            ttl = int(value)
            continue
        if tname == 'DELAY':
            node.delay = int(value) / 1000.0
            continue
        if tname not in TYPES:
            raise ZoneError('%s: unknown record type %r' % (name, tname))
        rtype = TYPES[tname]
        if tname == 'TXT':
            node.has_txt_entry = True
        if isinstance(value, str) and value in ('TIMEOUT', 'SERVFAIL'):
            (node.type_silent if value == 'TIMEOUT' else node.type_servfail).add(rtype)
            continue
        if rtype in (T_TXT, T_SPF) and value == 'NONE':
            continue
        rdata = encode_rdata(rtype, value, name)
        target = name_key(value) if rtype == T_CNAME else None
        node.records.append((rtype, ttl, rdata, target))
        if rtype == T_SPF:
            spf_copies.append((T_TXT, ttl, rdata, None))
    # The drivers append the copies after every listed entry, so a TIMEOUT
    # line also silences them.
    if spf_to_txt and not node.has_txt_entry:
        node.records.extend(spf_copies)
    return node


def load_zone(data, spf_to_txt, zone=None):
    if zone is None:
        zone = {}
    if data is None:
        return zone
    if isinstance(data, dict) and isinstance(data.get('zonedata'), dict):
        data = data['zonedata']
    if not isinstance(data, dict):
        raise ZoneError('zone must be a mapping name -> records')
    for name, entries in data.items():
        key = name_key(name)
        node = load_node(str(name), entries, spf_to_txt)
        if key in zone:
            zone[key].records.extend(node.records)
        else:
            zone[key] = node
    return zone


def open_maybe_gz(path):
    if path.endswith('.gz'):
        return gzip.open(path, 'rb')
    return open(path, 'rb')


def load_suite_scenario(path, which):
    with open_maybe_gz(path) as f:
        docs = [d for d in yaml.load_all(f, Loader=LOADER) if d]
    if which.isdigit():
        i = int(which)
        if i >= len(docs):
            raise ZoneError('%s has %d scenarios, no %d' % (path, len(docs), i))
        return docs[i]
    for d in docs:
        if d.get('description') == which:
            return d
    raise ZoneError('no scenario %r in %s' % (which, path))


# ---------------------------------------------------------------- wire

class FormErr(Exception):
    pass


def read_name(msg, off):
    """Labels of the name at off, and the offset after it."""
    labels = []
    end = None
    hops = 0
    total = 0
    while True:
        if off >= len(msg):
            raise FormErr('name past end')
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise FormErr('pointer past end')
            if end is None:
                end = off + 2
            hops += 1
            if hops > 32:
                raise FormErr('pointer loop')
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        if n & 0xC0:
            raise FormErr('bad label type')
        off += 1
        if n == 0:
            break
        if off + n > len(msg):
            raise FormErr('label past end')
        labels.append(bytes(msg[off:off + n]))
        total += n + 1
        if total > 255:
            raise FormErr('name too long')
        off += n
    return labels, (end if end is not None else off)


def labels_wire(labels):
    out = bytearray()
    for l in labels:
        out.append(len(l))
        out += l
    out.append(0)
    return bytes(out)


class Query:
    __slots__ = ('id', 'flags', 'labels', 'qtype', 'qclass', 'edns', 'qwire')


def parse_query(msg):
    if len(msg) < 12:
        raise FormErr('short')
    q = Query()
    q.id, q.flags, qd, an, ns, ar = struct.unpack('>HHHHHH', msg[:12])
    if qd != 1:
        raise FormErr('qdcount %d' % qd)
    q.labels, off = read_name(msg, 12)
    if off + 4 > len(msg):
        raise FormErr('short question')
    q.qtype, q.qclass = struct.unpack('>HH', msg[off:off + 4])
    off += 4
    q.qwire = labels_wire(q.labels) + msg[off - 4:off]
    q.edns = None
    # Only a query's OPT record matters; skip anything else in front of it.
    try:
        for _ in range(an + ns + ar):
            _, off = read_name(msg, off)
            rtype, rclass, _ttl, rdlen = struct.unpack('>HHIH', msg[off:off + 10])
            off += 10 + rdlen
            if rtype == T_OPT:
                q.edns = max(512, min(rclass, 4096))
    except (FormErr, struct.error):
        pass
    return q


def rr(owner_wire, rtype, ttl, rdata):
    return owner_wire + struct.pack('>HHIH', rtype, 1, ttl, len(rdata)) + rdata


def soa_rr(labels, neg_ttl):
    owner = labels[-2:] if len(labels) >= 2 else labels
    rdata = (encode_name('ns.dnsd.test') + encode_name('hostmaster.dnsd.test') +
             struct.pack('>IIIII', 1, 3600, 600, 86400, neg_ttl))
    return rr(labels_wire(owner), T_SOA, neg_ttl, rdata)


class Answer:
    __slots__ = ('rcode', 'answers', 'authority', 'drop', 'truncate', 'spoof', 'delay')

    def __init__(self):
        self.rcode = 0
        self.answers = []
        self.authority = []
        self.drop = False
        self.truncate = False
        self.spoof = False
        self.delay = 0.0


class Server:
    def __init__(self, zone, delay, log, neg_ttl, tag=''):
        self.zone = zone
        self.tag = tag
        self.delay = delay
        self.logf = log
        self.neg_ttl = neg_ttl
        self.forged = None         # set by respond(): forgeries to send first
        self.held = 0.0            # set by respond(): the name's own DELAY

    def log(self, line):
        if self.logf:
            self.logf.write(self.tag + line + '\n')
            self.logf.flush()

    def resolve(self, q):
        a = Answer()
        key = tuple(l.lower() for l in q.labels)
        owner = labels_wire(q.labels)
        seen = set()
        hops = 0
        while True:
            node = self.zone.get(key)
            if node is None:
                a.rcode = 3
                a.authority.append(soa_rr(list(key), self.neg_ttl))
                return a
            if node.truncate:
                a.truncate = True
            if node.spoof:
                a.spoof = True
            if node.delay:
                a.delay = node.delay
            types = node.types_so_far()
            if q.qtype in node.type_silent or (
                    node.silent is not None and q.qtype not in node.silent):
                a.drop = True
                return a
            if q.qtype in node.type_servfail or (
                    node.servfail is not None and q.qtype not in node.servfail):
                a.rcode = 2
                a.answers = []
                return a
            cnames = [r for r in node.records if r[0] == T_CNAME]
            if cnames and q.qtype not in (T_CNAME, T_ANY):
                r = cnames[0]
                a.answers.append(rr(owner, T_CNAME, r[1], r[2]))
                seen.add(key)
                hops += 1
                key = r[3]
                # A loop or an over-long chain ends the answer, as an
                # authoritative server would end it.
                if key in seen or hops > MAX_CNAME_HOPS:
                    return a
                owner = r[2]
                continue
            for r in node.records:
                if r[0] == q.qtype or (q.qtype == T_ANY and r[0] in types):
                    a.answers.append(rr(owner, r[0], r[1], r[2]))
            if not a.answers:
                a.authority.append(soa_rr(list(key), self.neg_ttl))
            return a

    def respond(self, msg, proto):
        """Reply bytes for one request, or None to stay silent."""
        self.forged = None
        self.held = 0.0
        try:
            q = parse_query(msg)
        except (FormErr, struct.error) as e:
            if len(msg) < 12:
                self.log('%s garbage len=%d dropped' % (proto, len(msg)))
                return None
            qid, flags = struct.unpack('>HH', msg[:4])
            if flags & 0x8000:
                return None
            self.log('%s garbage len=%d (%s) FORMERR' % (proto, len(msg), e))
            return struct.pack('>HHHHHH', qid, 0x8000 | (flags & 0x7900) | 1, 0, 0, 0, 0)
        if q.flags & 0x8000:          # a response: never answer those
            return None
        opcode = (q.flags >> 11) & 0xF
        qname = b'.'.join(q.labels).decode('latin-1') or '.'
        tname = TYPE_NAMES.get(q.qtype, 'TYPE%d' % q.qtype)
        if opcode != 0:
            self.log('%s %s %s NOTIMP' % (proto, qname, tname))
            return self.pack(q, 4, [], [], False)
        a = self.resolve(q)
        if a.drop:
            self.log('%s %s %s TIMEOUT' % (proto, qname, tname))
            return None
        tc = a.truncate and proto == 'udp'
        if tc:
            self.log('%s %s %s %s an=%d TRUNCATE' % (proto, qname, tname,
                                                     RCODES.get(a.rcode), len(a.answers)))
            return self.pack(q, a.rcode, [], [], True)
        out = self.pack(q, a.rcode, a.answers, a.authority, False)
        limit = (q.edns or 512) if proto == 'udp' else 65535
        if len(out) > limit:
            self.log('%s %s %s %s an=%d TC(size %d)' % (proto, qname, tname,
                                                       RCODES.get(a.rcode), len(a.answers), len(out)))
            return self.pack(q, a.rcode, [], [], True)
        self.log('%s %s %s %s an=%d' % (proto, qname, tname, RCODES.get(a.rcode), len(a.answers)))
        if a.spoof and proto == 'udp':
            self.forged = self.forgeries(q)
        self.held = a.delay
        return out

    @staticmethod
    def forgeries(q):
        """NXDOMAIN answers a careful client must ignore: (id, question,
        from another port?)."""
        other_name = labels_wire([b'x'] + q.labels) + q.qwire[-4:]
        other_type = q.qwire[:-4] + struct.pack('>HH', T_ANY if q.qtype != T_ANY else T_A, 1)
        return [((q.id + 1) & 0xFFFF, q.qwire, False), (q.id, q.qwire, True),
                (q.id, other_name, False), (q.id, other_type, False)]

    @staticmethod
    def pack(q, rcode, answers, authority, tc):
        # QR AA RA, the client's opcode and RD kept.
        flags = 0x8000 | 0x0400 | 0x0080 | (q.flags & 0x7900) | (rcode & 0xF)
        if tc:
            flags |= 0x0200
        extra = []
        if q.edns is not None:
            extra.append(b'\x00' + struct.pack('>HHIH', T_OPT, 1232, 0, 0))
        head = struct.pack('>HHHHHH', q.id, flags, 1, len(answers), len(authority), len(extra))
        return head + q.qwire + b''.join(answers) + b''.join(authority) + b''.join(extra)


class UDPProto(asyncio.DatagramProtocol):
    def __init__(self, server):
        self.server = server
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        try:
            out = self.server.respond(data, 'udp')
        except Exception as e:       # never die on one request
            self.server.log('udp internal error %r' % (e,))
            return
        if out is None:
            return
        if self.server.forged:
            self.forge(self.server.forged, addr)
            asyncio.get_running_loop().call_later(self.server.delay + 0.1, self.send, out, addr)
        elif self.server.delay or self.server.held:
            asyncio.get_running_loop().call_later(self.server.delay + self.server.held,
                                                  self.send, out, addr)
        else:
            self.send(out, addr)

    def send(self, out, addr):
        try:
            self.transport.sendto(out, addr)
        except OSError:
            pass

    def forge(self, forged, addr):
        for qid, qwire, other_port in forged:
            msg = struct.pack('>HHHHHH', qid, 0x8583, 1, 0, 0, 0) + qwire
            if not other_port:
                self.send(msg, addr)
                continue
            s = socket.socket(socket.AF_INET6 if ':' in addr[0] else socket.AF_INET,
                              socket.SOCK_DGRAM)
            try:
                s.bind((self.transport.get_extra_info('sockname')[0], 0))
                s.sendto(msg, addr)
            except OSError:
                pass
            finally:
                s.close()

    def error_received(self, exc):
        pass


async def tcp_reply(server, writer, out, held=0.0):
    if server.delay or held:
        await asyncio.sleep(server.delay + held)
    try:
        writer.write(struct.pack('>H', len(out)) + out)
        await writer.drain()
    except (OSError, ConnectionError):
        pass


def make_tcp_handler(server):
    async def handle(reader, writer):
        pending = set()
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readexactly(2), 60)
                    (n,) = struct.unpack('>H', head)
                    msg = await asyncio.wait_for(reader.readexactly(n), 10)
                except (asyncio.IncompleteReadError, asyncio.TimeoutError,
                        ConnectionError, OSError):
                    break
                try:
                    out = server.respond(msg, 'tcp')
                except Exception as e:
                    server.log('tcp internal error %r' % (e,))
                    out = None
                if out is not None:
                    t = asyncio.ensure_future(tcp_reply(server, writer, out, server.held))
                    pending.add(t)
                    t.add_done_callback(pending.discard)
            if pending:
                await asyncio.wait(pending, timeout=5)
        finally:
            try:
                writer.close()
            except Exception:
                pass
    return handle


def bind_sockets(addr, port):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    for _ in range(100):
        udp = socket.socket(fam, socket.SOCK_DGRAM)
        udp.bind((addr, port))
        got = udp.getsockname()[1]
        tcp = socket.socket(fam, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((addr, got))
        except OSError:
            udp.close()
            tcp.close()
            if port != 0:
                raise
            continue
        tcp.listen(128)
        udp.setblocking(False)
        tcp.setblocking(False)
        return udp, tcp, got
    raise OSError('no free port for both UDP and TCP')


async def serve(args, servers):
    loop = asyncio.get_running_loop()
    bound = []
    for i, server in enumerate(servers):
        bound.append(bind_sockets(args.addr, args.port if i == 0 else 0))
    stop = loop.create_future()

    def quit_now(*_):
        if not stop.done():
            stop.set_result(True)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, quit_now)
    closers = []
    for server, (udp, tcp, port) in zip(servers, bound):
        transport, _ = await loop.create_datagram_endpoint(
            lambda server=server: UDPProto(server), sock=udp)
        srv = await asyncio.start_server(make_tcp_handler(server), sock=tcp)
        closers += [transport, srv]
        server.log('listening %s port %d' % (args.addr, port))
    if args.pidfile:
        with open(args.pidfile, 'w') as f:
            f.write('%d\n' % os.getpid())
    if args.exit_on_stdin_eof:
        def stdin_readable():
            try:
                data = os.read(0, 4096)
            except OSError:
                data = b''
            if not data:
                loop.remove_reader(0)
                quit_now()
        loop.add_reader(0, stdin_readable)
    sys.stdout.write('ready %s\n' % ' '.join(str(b[2]) for b in bound))
    sys.stdout.flush()
    await stop
    for c in closers:
        c.close()
    if args.pidfile:
        try:
            os.unlink(args.pidfile)
        except OSError:
            pass


def main():
    p = argparse.ArgumentParser(description='test DNS server (zone in RFC suite YAML)')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--addr', default='127.0.0.1')
    p.add_argument('--zone', action='append', default=[])
    p.add_argument('--suite')
    p.add_argument('--scenario')
    p.add_argument('--delay-ms', type=int, default=0)
    p.add_argument('--pidfile')
    p.add_argument('--log')
    p.add_argument('--neg-ttl', type=int, default=300)
    p.add_argument('--spf-to-txt', dest='spf_to_txt', action='store_true', default=None)
    p.add_argument('--no-spf-to-txt', dest='spf_to_txt', action='store_false')
    p.add_argument('--exit-on-stdin-eof', action='store_true')
    args = p.parse_args()
    if bool(args.suite) != (args.scenario is not None):
        p.error('--suite and --scenario go together')
    try:
        zones = []
        if args.suite and args.scenario == 'all':
            # Every scenario at once, each on its own port, so a suite run
            # starts one server instead of one per scenario.
            with open_maybe_gz(args.suite) as f:
                docs = [d for d in yaml.load_all(f, Loader=LOADER) if d]
            for doc in docs:
                zones.append(load_zone(doc.get('zonedata'), args.spf_to_txt is not False, {}))
        else:
            zone = {}
            if args.suite:
                doc = load_suite_scenario(args.suite, args.scenario)
                load_zone(doc.get('zonedata'), args.spf_to_txt is not False, zone)
            zones.append(zone)
        for zf in args.zone:
            with open_maybe_gz(zf) as f:
                data = yaml.load(f, Loader=LOADER)
            for zone in zones:
                load_zone(data, bool(args.spf_to_txt), zone)
    except (ZoneError, OSError, yaml.YAMLError) as e:
        sys.stderr.write('dnsd: %s\n' % (e,))
        return 2
    logf = None
    if args.log:
        logf = open(args.log, 'a', buffering=1, encoding='utf-8', errors='replace')
    servers = [Server(z, args.delay_ms / 1000.0, logf, args.neg_ttl,
                      's%d ' % i if len(zones) > 1 else '') for i, z in enumerate(zones)]
    try:
        asyncio.run(serve(args, servers))
    except OSError as e:
        sys.stderr.write('dnsd: %s\n' % (e,))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
