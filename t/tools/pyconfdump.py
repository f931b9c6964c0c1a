#!/usr/bin/python3
# pyconfdump - the Python policyd-spf reader (spf_engine.policydspfsupp)
# on FILE, dumped in confdump's format: Python keys sorted, repr values,
# milter datasets left out.  syslog lines go to stderr as "LOG <prio> <msg>".
# Exit status: the reader's (1 when start-up would stop).
import copy
import sys
import syslog


def fake(*a):
    msg = a[-1]
    prio = a[0] if len(a) > 1 else syslog.LOG_INFO
    sys.stderr.write('LOG %d %s\n' % (prio, msg))


syslog.syslog = fake
import spf_engine.policydspfsupp as supp  # noqa: E402

conf = supp._processConfigFile(filename=sys.argv[1],
                               config=copy.deepcopy(supp.defaultConfigData))
for k in sorted(conf):
    if k in ('IntHosts', 'InternalHosts', 'MacroList', 'QueueID'):
        continue
    print('%s=%r' % (k, conf[k]))
