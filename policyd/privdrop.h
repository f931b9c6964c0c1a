/*
 * privdrop - leave root for good after the sockets are bound: to the
 * configured user and group, else the `policyd-spf` account (Debian's
 * package creates it), else `nobody`.  Checks are never evaluated as root.
 */
#ifndef POLICYD_PRIVDROP_H
#define POLICYD_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

struct privdrop {
	char user[64];
	uid_t uid;
	gid_t gid;
};

/* Pick the account; -1 with err when a configured one does not exist or is root. */
int privdrop_resolve(struct privdrop *pd, const char *user, const char *group,
		     char *err, size_t errlen);
/* initgroups, setgid, setuid, each checked, and proven irreversible. */
int privdrop_apply(const struct privdrop *pd, char *err, size_t errlen);
/* "user[:group]" for Socket_Owner; (uid_t)-1/(gid_t)-1 for parts not given. */
int privdrop_owner(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen);

#endif
