# smtp.py - drive one SMTP session with swaks and XCLIENT, and pick the
# transcript apart: which reply did each command get, and the queue id of
# an accepted message.

import re
import subprocess


class Session:
    def __init__(self, argv, out, rc):
        self.argv = argv
        self.out = out
        self.rc = rc
        self.steps = []              # [command, [reply lines]]
        for line in out.split('\n'):
            if line.startswith(' -> ') or line.startswith('~> '):
                self.steps.append([line[4:], []])
            elif line.startswith('<-  ') or line.startswith('<** '):
                if self.steps:
                    self.steps[-1][1].append(line[4:])
            elif line.startswith('*** ') and self.steps:
                self.steps[-1][1].append(line)

    def reply(self, command_prefix):
        """Last reply line to the first command starting with the prefix
        (case-insensitive), or None if it was never sent."""
        for cmd, rep in self.steps:
            if cmd.lower().startswith(command_prefix.lower()):
                return rep[-1] if rep else None
        return None

    def replies(self, command_prefix):
        return [rep[-1] if rep else None for cmd, rep in self.steps
                if cmd.lower().startswith(command_prefix.lower())]

    def end_of_data(self):
        for cmd, rep in self.steps:
            if cmd == '.':
                return rep[-1] if rep else None
        return None

    def queue_id(self):
        m = re.match(r'250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)$', self.end_of_data() or '')
        return m.group(1) if m else None


def swaks(port, addr, name, helo, mail_from, rcpts, headers=(), timeout=45):
    argv = ['swaks', '--server', '127.0.0.1:%d' % port,
            '--xclient-addr', addr, '--xclient-name', name,
            '--helo', helo, '--from', mail_from, '--to', ','.join(rcpts),
            '--timeout', '%d' % timeout]
    for h in headers:
        argv += ['--header', h]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout * 2)
    return Session(argv, r.stdout.decode(errors='replace'), r.returncode)
