/*
 * privdrop - see privdrop.h.  getpwnam() and friends may read files or ask
 * NSS; that happens once at start, before the event loop.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
lookup_group(const char *group, gid_t *gid, char *err, size_t errlen)
{
	struct group *gr = getgrnam(group);

	if (gr == NULL) {
		snprintf(err, errlen, "group '%s' does not exist", group);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

int
privdrop_resolve(struct privdrop *pd, const char *user, const char *group,
		 char *err, size_t errlen)
{
	struct passwd *pw = NULL;

	if (user != NULL && *user != '\0') {
		pw = getpwnam(user);
		if (pw == NULL) {
			snprintf(err, errlen, "user '%s' does not exist", user);
			return -1;
		}
	} else {
		pw = getpwnam("policyd-spf");
		if (pw == NULL)
			pw = getpwnam("nobody");
		if (pw == NULL) {
			snprintf(err, errlen, "neither user 'policyd-spf' nor 'nobody' exists; set User");
			return -1;
		}
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "refusing to run checks as root (user '%s')", pw->pw_name);
		return -1;
	}
	snprintf(pd->user, sizeof(pd->user), "%s", pw->pw_name);
	pd->uid = pw->pw_uid;
	pd->gid = pw->pw_gid;
	if (group != NULL && *group != '\0' && lookup_group(group, &pd->gid, err, errlen) < 0)
		return -1;
	return 0;
}

int
privdrop_apply(const struct privdrop *pd, char *err, size_t errlen)
{
	if (initgroups(pd->user, pd->gid) < 0) {
		snprintf(err, errlen, "initgroups(%s): %s", pd->user, strerror(errno));
		return -1;
	}
	if (setgid(pd->gid) < 0) {
		snprintf(err, errlen, "setgid(%ld): %s", (long)pd->gid, strerror(errno));
		return -1;
	}
	if (setuid(pd->uid) < 0) {
		snprintf(err, errlen, "setuid(%ld): %s", (long)pd->uid, strerror(errno));
		return -1;
	}
	if (getuid() != pd->uid || geteuid() != pd->uid || getgid() != pd->gid ||
	    getegid() != pd->gid) {
		snprintf(err, errlen, "privilege drop to %s did not take", pd->user);
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "privilege drop to %s is reversible", pd->user);
		return -1;
	}
	return 0;
}

int
privdrop_owner(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	char user[128];
	const char *colon = strchr(spec, ':');
	size_t ul = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	struct passwd *pw;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (ul >= sizeof(user)) {
		snprintf(err, errlen, "Socket_Owner '%s': name too long", spec);
		return -1;
	}
	memcpy(user, spec, ul);
	user[ul] = '\0';
	if (ul > 0) {
		pw = getpwnam(user);
		if (pw == NULL) {
			snprintf(err, errlen, "Socket_Owner: user '%s' does not exist", user);
			return -1;
		}
		*uid = pw->pw_uid;
	}
	if (colon != NULL && colon[1] != '\0' && lookup_group(colon + 1, gid, err, errlen) < 0)
		return -1;
	return 0;
}
