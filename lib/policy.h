/*
 * policy - the Python policyd-spf's decision for one policy request:
 * bypass lists, the HELO and MAIL FROM checks (run in parallel), the
 * result-to-action matrix, headers, reject texts, and the per-message
 * `instance` cache (one per connection, as one Python process served one
 * connection).
 */
#ifndef POLICYD_POLICY_H
#define POLICYD_POLICY_H

#include "attr.h"
#include "conf.h"
#include "dns.h"

struct policy_session;   /* per client connection */
struct policy_check;     /* one request being decided */

struct policy_session *policy_session_new(void);
void policy_session_free(struct policy_session *s);

/* action: the text after "action=", one line, no CR/LF/NUL; valid during the call. */
typedef void policy_done_fn(void *arg, const char *action);

/*
 * Decide one request.  The request is copied; conf is referenced for the
 * life of the check.  Returns NULL when done was already called.
 * The check answers on its own before conf->request_timeout runs out.
 */
struct policy_check *policy_check_start(struct policy_session *s, struct conf *conf,
					struct dns_ctx *dns, const struct attr_req *req,
					policy_done_fn *done, void *arg);
/* Cancel without answering (connection closed). */
void policy_check_cancel(struct policy_check *c);

#endif
