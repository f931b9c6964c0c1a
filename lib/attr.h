/*
 * attr - one Postfix policy request as name=value attributes, parsed the
 * way the Python policyd-spf parses them (reference §3.1): rstrip each
 * line, key up to the first '=' or blank, value after '=' kept with its
 * leading blanks, values lower-cased except protocol_state, protocol_name
 * and queue_id, last occurrence wins.  Lookups tell absent from empty.
 */
#ifndef POLICYD_ATTR_H
#define POLICYD_ATTR_H

#include <stddef.h>

#define ATTR_MAX 64            /* distinct attributes kept per request */

struct attr { char *name; char *value; };

struct attr_req {
	struct attr a[ATTR_MAX];
	size_t n;
	size_t bytes;              /* total bytes held, for the request bound */
};

void attr_req_init(struct attr_req *r);
void attr_req_clear(struct attr_req *r);
/*
 * Add one raw line (without its LF).  Returns 0, or -1 with *err set to a
 * static description when the line does not match name=value (the caller
 * logs it and goes on) or a bound is hit.
 */
int attr_req_add_line(struct attr_req *r, const char *line, size_t len, const char **err);
/* NULL when the attribute is absent; "" when present and empty. */
const char *attr_get(const struct attr_req *r, const char *name);

#endif
