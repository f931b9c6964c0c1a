/*
 * conn - one policy client connection: Postfix's framing (name=value
 * lines, an empty line ends a request), one `action=...` reply per request
 * in request order, and every bound a connection needs.  A small explicit
 * state machine (conn.c) on raw libevent events; the input and output fds
 * may differ (spawn mode on a pipe pair).
 */
#ifndef POLICYD_CONN_H
#define POLICYD_CONN_H

struct srv;
struct conn;

#define CONN_QUEUE_MAX 8        /* pipelined requests parsed ahead of their turn */
#define CONN_OUT_MAX   65536    /* unsent reply bytes before we stop taking requests */
#define CONN_READ_CHUNK 16384

/* Takes ownership of the fds (closed when the connection ends). */
struct conn *conn_new(struct srv *s, int in_fd, int out_fd, const char *peer);
/* Server stopping: take no new requests, answer what has arrived, close. */
void conn_shutdown(struct conn *c);
/* Forced end (shutdown grace over): cancel the check, close without reply. */
void conn_abort(struct conn *c, const char *why);
struct conn *conn_next(const struct conn *c);
void conn_link(struct conn *c, struct conn **head);

#endif
