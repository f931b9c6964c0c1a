/*
 * attr - one Postfix policy request as name=value attributes, parsed the
 * way the Python policyd-spf parses them (reference §3.1): rstrip each
 * line, key up to the first '=' or blank, value after '=' kept with its
 * leading blanks, values lower-cased except protocol_state, protocol_name
 * and queue_id, last occurrence wins.  Lookups tell absent from empty.
 *
 * Bytes are decoded as UTF-8 with replacement, as Python does: each
 * maximal invalid subsequence becomes U+FFFD, so every stored name and
 * value is valid UTF-8.  "Blank" means Python's str.isspace() set (ASCII
 * blanks, \x1c-\x1f, U+0085, U+00A0, U+1680, U+2000-200A, U+2028/9,
 * U+202F, U+205F, U+3000).  Lower-casing is Python's str.lower() for
 * every code point (U+0130 -> "i\u0307", capital sigma by the
 * Final_Sigma rule), from tables scripts/gen-ulower.py takes from
 * Python 3.11 (Unicode 14.0), the reference server's.  A line with a NUL
 * byte is treated as not matching (Python would keep the NUL).
 */
#ifndef POLICYD_ATTR_H
#define POLICYD_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATTR_MAX 64            /* distinct attributes kept per request */
#define ATTR_LINE_MAX 8192     /* bytes in one line, LF excluded */
#define ATTR_REQ_MAX 65536     /* raw bytes of one request, LFs included */

/*
 * One request.  Names and values live in one arena ("name\0value\0" per
 * attribute, found by offset), so a request costs no allocation per
 * attribute and attr_req_reset() keeps the arena for the next request on
 * the connection.  A value replaced by a later line stays in the arena as
 * garbage; the arena is still bounded by ATTR_REQ_MAX (decoding and
 * lower-casing at most triple a byte).
 */
struct attr_req {
	char *buf;                 /* the arena */
	uint32_t len, cap;         /* bytes used / allocated */
	uint32_t n;                /* attributes */
	uint32_t bytes;            /* raw bytes of the lines added (with LF), for the bound */
	uint64_t seen[2];          /* bit (hash & 127) of every name: most new names skip the duplicate scan */
	uint32_t hash[ATTR_MAX];   /* of each name, compared before the bytes */
	uint32_t name[ATTR_MAX];   /* arena offsets */
	uint32_t value[ATTR_MAX];
};

/* attr_req_add_line() results */
#define ATTR_END      1        /* the line is blank: it ends the request (nothing added) */
#define ATTR_OK       0
#define ATTR_NOMATCH  (-1)     /* line ignored, request goes on (Python logs and continues) */
#define ATTR_BOUND    (-2)     /* a bound was hit: the request is unusable */

/* An empty request that owns nothing (no allocation). */
void attr_req_init(struct attr_req *r);
/* Free everything; r is then empty, as after attr_req_init(). */
void attr_req_clear(struct attr_req *r);
/* Empty r for the next request but keep a small arena (a big one is freed). */
void attr_req_reset(struct attr_req *r);
/*
 * Add one raw line (without its LF; a trailing CR is stripped like any
 * trailing blank).  Returns ATTR_END for a blank line (attr_line_is_end(),
 * checked first: no bound applies and nothing is counted), ATTR_OK, or
 * ATTR_NOMATCH / ATTR_BOUND (both negative) with *err set to a static
 * description.
 */
int attr_req_add_line(struct attr_req *r, const char *line, size_t len, const char **err);
/* True when the line is empty or only blanks after decoding: it ends a request. */
bool attr_line_is_end(const char *line, size_t len);
/* Python's str.lower() of valid UTF-8; a new string, NULL when out of
 * memory.  The policy uses it
 * for values it lower-cases itself (Authserv_Id). */
char *attr_lower_dup(const char *v, size_t len);
/* NULL when the attribute is absent; "" when present and empty.  Valid
 * until the request is next changed, reset or cleared. */
const char *attr_get(const struct attr_req *r, const char *name);
/* The i-th attribute (0 <= i < r->n), in order of first appearance. */
static inline const char *attr_name(const struct attr_req *r, size_t i) { return r->buf + r->name[i]; }
static inline const char *attr_value(const struct attr_req *r, size_t i) { return r->buf + r->value[i]; }
/* Deep copy into an uninitialised dst; -1 on ENOMEM (dst then empty). */
int attr_req_copy(struct attr_req *dst, const struct attr_req *src);

/*
 * The line as Python would log it in `Could not match line "%s"`: decoded
 * with replacement and right-stripped, written NUL-terminated to out
 * (truncated to outlen).  Control bytes are left for the log module.
 */
void attr_line_display(const char *line, size_t len, char *out, size_t outlen);

#endif
