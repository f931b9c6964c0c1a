/*
 * listen - bind the endpoints.  A stale unix socket (nobody accepting on
 * it) is removed; a live one or a non-socket file at the path is an error,
 * so two servers never steal each other's socket.
 */
#include "listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024

int
listen_parse(const char *spec, int *is_unix, char *host, size_t hostlen,
	     char *port, size_t portlen, char *err, size_t errlen)
{
	const char *p, *colon;
	size_t hl;

	if (strncmp(spec, "unix:", 5) == 0 || spec[0] == '/') {
		p = spec[0] == '/' ? spec : spec + 5;
		if (*p == '\0' || strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errlen, "%s: unix socket path empty or too long", spec);
			return -1;
		}
		if (strlen(p) >= hostlen) {
			snprintf(err, errlen, "%s: path too long", spec);
			return -1;
		}
		*is_unix = 1;
		snprintf(host, hostlen, "%s", p);
		if (portlen > 0)
			port[0] = '\0';
		return 0;
	}
	*is_unix = 0;
	p = strncmp(spec, "inet:", 5) == 0 ? spec + 5 : spec;
	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (close == NULL || close[1] != ':') {
			snprintf(err, errlen, "%s: expected inet:[ADDRESS]:PORT", spec);
			return -1;
		}
		hl = (size_t)(close - p - 1);
		colon = close + 1;
		p++;
	} else {
		colon = strrchr(p, ':');
		if (colon != NULL && memchr(p, ':', (size_t)(colon - p)) != NULL) {
			snprintf(err, errlen, "%s: write IPv6 addresses as inet:[ADDRESS]:PORT", spec);
			return -1;
		}
		hl = colon != NULL ? (size_t)(colon - p) : 0;
	}
	if (colon == NULL) {
		colon = p - 1;  /* inet:PORT */
		hl = 0;
	}
	if (hl >= hostlen || strlen(colon + 1) >= portlen) {
		snprintf(err, errlen, "%s: address too long", spec);
		return -1;
	}
	memcpy(host, p, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	if (port[0] == '\0' || strspn(port, "0123456789") != strlen(port) || atol(port) > 65535) {
		snprintf(err, errlen, "%s: bad port '%s'", spec, port);
		return -1;
	}
	if (host[0] == '\0')
		snprintf(host, hostlen, "127.0.0.1");
	return 0;
}

static int
set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int
push_fd(struct listen_set *ls, int fd, int is_unix, const char *spec, char *err, size_t errlen)
{
	if (ls->n >= LISTEN_MAX_FDS) {
		snprintf(err, errlen, "%s: too many listening sockets", spec);
		close(fd);
		return -1;
	}
	ls->name[ls->n] = strdup(spec);
	ls->fd[ls->n] = fd;
	ls->is_unix[ls->n] = is_unix;
	ls->n++;
	return 0;
}

/* listen_parse() checked that the path fits */
static void
fill_sun(struct sockaddr_un *sun, const char *path)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n >= sizeof(sun->sun_path))
		n = sizeof(sun->sun_path) - 1;
	memcpy(sun->sun_path, path, n);
}

/* Remove a unix socket left behind by a dead server; refuse anything else. */
static int
clear_stale(const char *path, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", spec, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: %s exists and is not a socket", spec, path);
		return -1;
	}
	fill_sun(&sun, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", spec, strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s: another server is accepting on %s", spec, path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot remove stale socket: %s", spec, strerror(errno));
		return -1;
	}
	return 0;
}

static int
add_unix(struct listen_set *ls, const char *spec, const char *path,
	 const struct listen_unix_opts *uo, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd, mode = uo != NULL && uo->mode >= 0 ? uo->mode : 0666;

	if (clear_stale(path, spec, err, errlen) < 0)
		return -1;
	fill_sun(&sun, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", spec, strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(err, errlen, "%s: bind: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	/* recorded now so that an error below still removes the file */
	if (ls->npaths < LISTEN_MAX_FDS)
		ls->unix_paths[ls->npaths++] = strdup(path);
	if (chmod(path, (mode_t)mode) < 0) {
		snprintf(err, errlen, "%s: chmod %o: %s", spec, (unsigned)mode, strerror(errno));
		close(fd);
		return -1;
	}
	if (uo != NULL && (uo->uid != (uid_t)-1 || uo->gid != (gid_t)-1) &&
	    chown(path, uo->uid, uo->gid) < 0) {
		snprintf(err, errlen, "%s: chown: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0 || set_flags(fd) < 0) {
		snprintf(err, errlen, "%s: listen: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return push_fd(ls, fd, 1, spec, err, errlen);
}

static int
add_inet(struct listen_set *ls, const char *spec, const char *host, const char *port,
	 char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	int rc, fd, one = 1, nbound = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			snprintf(err, errlen, "%s: socket: %s", spec, strerror(errno));
			goto fail;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0 ||
		    set_flags(fd) < 0) {
			snprintf(err, errlen, "%s: bind: %s", spec, strerror(errno));
			close(fd);
			goto fail;
		}
		if (push_fd(ls, fd, 0, spec, err, errlen) < 0)
			goto fail;
		nbound++;
	}
	freeaddrinfo(res);
	if (nbound == 0) {
		snprintf(err, errlen, "%s: no address to bind", spec);
		return -1;
	}
	return 0;
fail:
	freeaddrinfo(res);
	return -1;
}

int
listen_add(struct listen_set *ls, const char *spec, const struct listen_unix_opts *uo,
	   char *err, size_t errlen)
{
	char host[256], port[16];
	int is_unix;

	if (listen_parse(spec, &is_unix, host, sizeof(host), port, sizeof(port), err, errlen) < 0)
		return -1;
	if (is_unix)
		return add_unix(ls, spec, host, uo, err, errlen);
	return add_inet(ls, spec, host, port, err, errlen);
}

void
listen_close_fds(struct listen_set *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (ls->fd[i] >= 0)
			close(ls->fd[i]);
		ls->fd[i] = -1;
	}
}

void
listen_close(struct listen_set *ls, int unlink_paths)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (ls->fd[i] >= 0)
			close(ls->fd[i]);
		free(ls->name[i]);
	}
	for (size_t i = 0; i < ls->npaths; i++) {
		if (unlink_paths)
			unlink(ls->unix_paths[i]);
		free(ls->unix_paths[i]);
	}
	ls->n = ls->npaths = 0;
}
