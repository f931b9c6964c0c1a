# postfix.py - a private Postfix instance for the end-to-end test: its own
# config, queue, data and log directories under the test's scratch
# directory, smtpd listeners on loopback ports only, every daemon
# unchrooted, mail held in the queue so the test can read the headers that
# reached it.  Nothing under /etc/postfix or /var/spool/postfix is used.

import os
import re
import subprocess
import time

from procs import StartError

BASE_MASTER = """\
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
flush     unix  n - n 1000? 0 flush
showq     unix  n - n - - showq
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    def __init__(self, root, myhostname='mx.test.example', mydomain='test.example'):
        self.root = root
        self.etc = os.path.join(root, 'etc')
        self.spool = os.path.join(root, 'spool')
        self.data = os.path.join(root, 'data')
        self.logs = os.path.join(root, 'logs')
        self.maillog = os.path.join(self.logs, 'maillog')
        self.myhostname = myhostname
        self.mydomain = mydomain
        self.main_extra = []
        self.master_extra = []
        self.started = False
        for d in (self.etc, self.spool, self.data, self.logs):
            os.makedirs(d, exist_ok=True)
        subprocess.run(['chown', 'postfix', self.data], check=True)

    def add_main(self, text):
        self.main_extra.append(text.rstrip('\n') + '\n')

    def add_master(self, text):
        self.master_extra.append(text.rstrip('\n') + '\n')

    def add_smtpd(self, port, overrides):
        """An smtpd listener on 127.0.0.1:port; overrides maps a main.cf
        parameter to a value without spaces (use $name indirection)."""
        line = '127.0.0.1:%d inet n - n - - smtpd' % port
        for k, v in overrides.items():
            if re.search(r'\s', v):
                raise ValueError('master.cf -o value with space: %r' % v)
            line += '\n  -o %s=%s' % (k, v)
        self.add_master(line)

    def _write(self):
        main = """\
compatibility_level = 3.6
queue_directory = {spool}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = {host}
mydomain = {dom}
myorigin = $mydomain
mydestination = $mydomain
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = all
mynetworks = 127.0.0.0/8
maillog_file = {maillog}
maillog_file_prefixes = {root}
default_transport = discard:e2e
local_transport = discard:e2e
biff = no
smtputf8_enable = yes
smtpd_authorized_xclient_hosts = 127.0.0.1
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination, reject
smtpd_policy_service_timeout = 15s
milter_default_action = tempfail
smtpd_milters =
non_smtpd_milters =
""".format(spool=self.spool, data=self.data, host=self.myhostname, dom=self.mydomain,
           maillog=self.maillog, root=self.root)
        with open(os.path.join(self.etc, 'main.cf'), 'w') as f:
            f.write(main + ''.join(self.main_extra))
        with open(os.path.join(self.etc, 'master.cf'), 'w') as f:
            f.write(BASE_MASTER + ''.join(self.master_extra))

    def cmd(self, *args, check=True):
        r = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=dict(os.environ, MAIL_CONFIG=self.etc))
        out = r.stdout.decode(errors='replace')
        if check and r.returncode != 0:
            raise StartError('%s failed (%d): %s' % (' '.join(args), r.returncode, out.strip()))
        return out

    def start(self):
        self._write()
        self.cmd('postfix', '-c', self.etc, 'check')
        self.cmd('postfix', '-c', self.etc, 'start')
        self.started = True
        pidfile = os.path.join(self.spool, 'pid', 'master.pid')
        deadline = time.time() + 15
        while time.time() < deadline:
            if os.path.exists(pidfile):
                return
            time.sleep(0.05)
        raise StartError('postfix master did not write %s' % pidfile)

    def master_pid(self):
        try:
            with open(os.path.join(self.spool, 'pid', 'master.pid')) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        if not self.started:
            return
        self.started = False
        pid = self.master_pid()
        self.cmd('postfix', '-c', self.etc, 'stop', check=False)
        # postfix stop only signals the master; wait until it and its
        # children are gone so nothing outlives the test.
        deadline = time.time() + 10
        while pid and time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        if pid:
            try:
                os.killpg(pid, 9)
            except OSError:
                pass
            try:
                os.kill(pid, 9)
            except OSError:
                pass

    def headers(self, qid):
        """The queued message's header lines, unfolded, top first."""
        out = self.cmd('postcat', '-c', self.etc, '-h', '-q', qid)
        lines = []
        for l in out.split('\n'):
            if l.startswith('*** ') or l == '':
                continue
            if l[:1] in (' ', '\t') and lines:
                lines[-1] += '\n' + l
            else:
                lines.append(l)
        return lines

    def log(self):
        try:
            with open(self.maillog, errors='replace') as f:
                return f.read()
        except OSError:
            return ''
