#!/usr/bin/python3
# Privilege drop: started as root, the server binds, sets the unix socket's
# owner and mode, then runs as the configured user (or policyd-spf, else
# nobody) -- real, effective, saved and filesystem ids, and groups.
import grp, os, pwd, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import testlib, proto

tap = testlib.Tap()
if os.geteuid() != 0:
    if os.environ.get('CI') == 'true':
        tap.ok(False, 'privilege drop tests need root (CI=true: not skipped)')
        tap.done()
    print('1..0 # SKIP privilege drop tests need root')
    sys.exit(0)


def ids(pid):
    st = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            st[k] = v.split()
    return ([int(x) for x in st['Uid']], [int(x) for x in st['Gid']],
            sorted(int(x) for x in st.get('Groups', [])))


nobody = pwd.getpwnam('nobody')
srv = proto.Server('unix', conf='Socket_Owner = nobody:%s\nSocket_Mode = 0600\n'
                   % grp.getgrgid(nobody.pw_gid).gr_name, args=['--user', 'nobody'])
uid, gid, groups = ids(srv.pid)
tap.is_(uid, [nobody.pw_uid] * 4, '--user nobody: real, effective, saved, fs uid')
tap.is_(gid, [nobody.pw_gid] * 4, '--user nobody: all gids are its group')
tap.ok(0 not in groups, '--user nobody: no root group left', diag=groups)
st = os.stat(srv.path)
tap.is_((st.st_uid, st.st_gid, st.st_mode & 0o777), (nobody.pw_uid, nobody.pw_gid, 0o600),
        'unix socket owner and mode set before the drop')
c = srv.connect()
c.send(proto.request(1))
tap.is_(c.reply(), proto.reply(1), 'checks answered after the drop')
c.close()
srv.stop()

# nothing configured: the policyd-spf account when it exists, else nobody
try:
    want = pwd.getpwnam('policyd-spf')
except KeyError:
    want = nobody
srv = proto.Server('tcp', conf='')
uid, gid, _ = ids(srv.pid)
tap.is_(uid, [want.pw_uid] * 4, 'default user: %s' % want.pw_name)
tap.ok(srv.wait_log('as %s' % want.pw_name) is not None, 'default user logged')
srv.stop()

# User / Group from the config file
srv = proto.Server('tcp', conf='User = nobody\nGroup = %s\n' % grp.getgrgid(0).gr_name)
uid, gid, _ = ids(srv.pid)
tap.is_((uid[0], gid[0]), (nobody.pw_uid, 0), 'User/Group keys applied')
srv.stop()

# spawn mode as root: dropped too
sp = proto.Spawn(args=['--user', 'nobody'])
sp.client.send(proto.request(2))
tap.is_(sp.client.reply(), proto.reply(2), 'spawn as root: answered')
uid, _, _ = ids(sp.proc.pid)
tap.is_(uid, [nobody.pw_uid] * 4, 'spawn as root: runs as nobody')
sp.stop()

# refusing root and unknown users
for args, what in ((['--user', 'root'], 'root'), (['--user', 'no-such-user-x'], 'unknown user')):
    r = testlib.run([testlib.binary('policyd-spf'), '--listen', 'inet:127.0.0.1:%d'
                     % proto.free_port()] + args + ['/dev/null'], timeout=10)
    tap.is_(r.returncode, 1, 'refuses to start with --user %s' % what)
tap.done()
