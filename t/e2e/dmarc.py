# dmarc.py - OpenDMARC (Debian's opendmarc) as the private Postfix's milter,
# configured the way docker-mailserver's target/opendmarc/opendmarc.conf
# does: RejectFailures, AuthservID = TrustedAuthservIDs = the host name, an
# IgnoreHosts file, a HistoryFile, no SPFSelfValidate.  So the SPF result it
# uses is the one in the Received-SPF header policyd-spf prepends.  It
# resolves _dmarc records through /etc/resolv.conf, which the test's
# namespace points at the test DNS server.

import os
import socket
import subprocess

from procs import free_port, wait_connectable


class History:
    """OpenDMARC's HistoryFile: one block of `key value` lines per message,
    starting with `job <queue id>`.  The `spf` line is the SPF result it
    took: -1 none found, 0 pass, 2 softfail, 3 neutral, ..."""

    def __init__(self, path):
        self.path = path

    def blocks(self):
        out = []
        try:
            with open(self.path, errors='replace') as f:
                for line in f:
                    k, _, v = line.rstrip('\n').partition(' ')
                    if k == 'job':
                        out.append({})
                    if out and k not in out[-1]:
                        out[-1][k] = v
        except OSError:
            pass
        return out

    def last(self):
        b = self.blocks()
        return b[-1] if b else {}


class OpenDmarc:
    def __init__(self, root, hostname, procs):
        self.root = root
        self.hostname = hostname
        self.procs = procs
        self.port = None
        self.history = History(os.path.join(root, 'opendmarc.dat'))

    def start(self):
        os.makedirs(self.root, exist_ok=True)
        subprocess.run(['chown', 'opendmarc:opendmarc', self.root], check=True)
        os.chmod(self.root, 0o755)
        self.port = free_port()
        ignore = os.path.join(self.root, 'ignore.hosts')
        with open(ignore, 'w') as f:
            f.write('127.0.0.1\n::1\nlocalhost\n')
        conf = os.path.join(self.root, 'opendmarc.conf')
        with open(conf, 'w') as f:
            f.write("""\
UserID   opendmarc:opendmarc
UMask    0002
PidFile  {root}/opendmarc.pid
Syslog   true
Socket   inet:{port}@127.0.0.1

RejectFailures  true

IgnoreHosts  {ignore}
HistoryFile  {root}/opendmarc.dat

AuthservID          {host}
TrustedAuthservIDs  {host}

IgnoreAuthenticatedClients true
""".format(root=self.root, port=self.port, ignore=ignore, host=self.hostname))
        p = self.procs.start('opendmarc', ['opendmarc', '-f', '-c', conf])
        wait_connectable(socket.AF_INET, ('127.0.0.1', self.port), proc=p, name='opendmarc')
        return p
