/*
 * conf - the policyd-spf.conf reader.
 *
 * Why not inih: the file must mean what it means to the Python reader
 * (spf_engine.policydspfsupp._readConfigFile), and Debian's libinih 55
 * does not read it that way: it cuts lines at 200 bytes (and reports an
 * error on the rest), takes an indented line as the continuation of the
 * previous value, strips ";" comments after a blank, splits on the first
 * '=' *or* ':' (so "skip_addresses = ::1" would be cut), and treats
 * "[...]" lines as sections.  Each of these is a compile-time option of
 * the shared library that we cannot change, so this one format is parsed
 * here, by the Python algorithm:
 *
 *   for each line (universal newlines: LF, CRLF and a lone CR end a line)
 *     cut at the first '#', strip (Python str.strip() whitespace),
 *     skip if empty; split on every '=' and strip each piece;
 *     one piece: ignore silently; three or more: log and skip;
 *     unknown (case-sensitive) name: log and skip;
 *     convert by type (str, int, bool); the last occurrence wins.
 *
 * The whole file must be valid UTF-8, as Python decodes it as such.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "iplist.h"
#include "pystr.h"
#include "log.h"

#define CONF_MAX_FILE (16u << 20)   /* a config file larger than this is refused */

enum ktype { K_STR, K_INT, K_BOOL, K_DATASET, K_OURS };

struct key {
	const char *name;
	enum ktype type;
	size_t off;           /* offset in struct conf_py for K_STR/K_INT/K_BOOL */
	bool per_user;        /* may appear in a Per_User line */
	bool pu_only;         /* only there (Python's per-user table has it, the main one not) */
};

#define PY(f) offsetof(struct conf_py, f)
static const struct key keys[] = {
	{ "debugLevel", K_INT, PY(debug_level), true, false },
	{ "HELO_reject", K_STR, PY(helo_reject), true, false },
	{ "Mail_From_reject", K_STR, PY(mail_from_reject), true, false },
	{ "PermError_reject", K_STR, PY(permerror_reject), true, false },
	{ "TempError_Defer", K_STR, PY(temperror_defer), true, false },
	{ "Mail_From_pass_restriction", K_STR, PY(mail_from_pass_restriction), true, false },
	{ "HELO_pass_restriction", K_STR, PY(helo_pass_restriction), true, false },
	{ "Prospective", K_STR, PY(prospective), true, false },
	{ "Whitelist", K_STR, PY(whitelist), true, false },
	{ "skip_addresses", K_STR, PY(skip_addresses), true, false },
	{ "HELO_Whitelist", K_STR, PY(helo_whitelist), true, false },
	{ "Domain_Whitelist", K_STR, PY(domain_whitelist), true, false },
	{ "Domain_Whitelist_PTR", K_STR, PY(domain_whitelist_ptr), true, false },
	{ "No_Mail", K_STR, PY(no_mail), true, false },
	{ "Reject_Not_Pass_Domains", K_STR, PY(reject_not_pass_domains), true, false },
	{ "Per_User", K_STR, PY(per_user), false, false },
	{ "TestOnly", K_INT, PY(test_only), false, false },
	{ "defaultSeedOnly", K_INT, PY(default_seed_only), true, false },
	{ "SPF_Enhanced_Status_Codes", K_STR, PY(spf_enhanced_status_codes), true, false },
	{ "Header_Type", K_STR, PY(header_type), true, false },
	{ "Hide_Receiver", K_STR, PY(hide_receiver), true, false },
	{ "Authserv_Id", K_STR, PY(authserv_id), false, false },
	{ "Lookup_Time", K_INT, PY(lookup_time), true, false },
	{ "Whitelist_Lookup_Time", K_INT, PY(whitelist_lookup_time), true, false },
	{ "Void_Limit", K_INT, PY(void_limit), true, false },
	{ "Reason_Message", K_STR, PY(reason_message), true, false },
	{ "Mock", K_BOOL, PY(mock), false, false },
	/* the per-user spelling: stored, never read (as in Python) */
	{ "Authserv-Id", K_STR, PY(pu_authserv_id), true, true },
	/* milter front end only: accepted, no effect here */
	{ "Socket", K_STR, PY(m_socket), false, false },
	{ "PidFile", K_STR, PY(m_pidfile), false, false },
	{ "UserID", K_STR, PY(m_userid), false, false },
	{ "UMask", K_INT, PY(m_umask), false, false },
	{ "InternalHosts", K_DATASET, PY(m_internalhosts), false, false },
	{ "IntHosts", K_BOOL, PY(m_inthosts), false, false },
	{ "MacroList", K_DATASET, PY(m_macrolist), false, false },
	/* ours (see policyd-spf.conf(5)); the Python server logs them as unknown */
	{ "Listen", K_OURS, 0, false, false },
	{ "DNS_Servers", K_OURS, 0, false, false },
	{ "DNS_Timeout", K_OURS, 0, false, false },
	{ "DNS_Tries", K_OURS, 0, false, false },
	{ "Socket_Mode", K_OURS, 0, false, false },
	{ "Socket_Owner", K_OURS, 0, false, false },
	{ "User", K_OURS, 0, false, false },
	{ "Group", K_OURS, 0, false, false },
	{ "Workers", K_OURS, 0, false, false },
	{ "Log_Destination", K_OURS, 0, false, false },
	{ "Max_Connections", K_OURS, 0, false, false },
	{ "Idle_Timeout", K_OURS, 0, false, false },
	{ "Request_Timeout", K_OURS, 0, false, false },
	{ "DNS_Cache_Size", K_OURS, 0, false, false },
	{ "Envelope_From_Escape", K_OURS, 0, false, false },
	{ "NAT_Warning_Interval", K_OURS, 0, false, false },
	{ "SERVFAIL_Is_Temperror", K_OURS, 0, false, false },
};

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Keys in Python's defaultConfigData, in its order (the Config: log line). */
static const char *const py_default_order[] = {
	"debugLevel", "HELO_reject", "Mail_From_reject", "PermError_reject", "TempError_Defer",
	"skip_addresses", "TestOnly", "SPF_Enhanced_Status_Codes", "Header_Type", "Hide_Receiver",
	"Authserv_Id", "Lookup_Time", "Whitelist_Lookup_Time", "Void_Limit", "Reason_Message",
	"No_Mail", "Mock", "QueueID", "Socket", "PidFile", "UserID", "UMask", "InternalHosts",
	"IntHosts", "MacroList", NULL,
};

/* Remember a key set from a file that Python's dict did not have yet. */
static void note_added(struct conf_py *p, const struct key *k)
{
	unsigned char idx = (unsigned char)(k - keys);

	for (size_t i = 0; py_default_order[i]; i++)
		if (strcmp(py_default_order[i], k->name) == 0)
			return;
	for (size_t i = 0; i < p->nadded; i++)
		if (p->added[i] == idx)
			return;
	if (p->nadded < sizeof p->added)
		p->added[p->nadded++] = idx;
}

/* ---- Python int() ---------------------------------------------------- */

int conf_parse_pyint(const char *s, int *out)
{
	int neg = 0;
	long long v = 0;
	bool digit = false, clamp = false;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; *s; s++) {
		if (*s == '_') {
			/* one '_' between two digits only */
			if (!digit || !isdigit((unsigned char)s[1]))
				return -1;
			digit = false;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return -1;
		digit = true;
		if (!clamp) {
			v = v * 10 + (*s - '0');
			if (v > (long long)INT_MAX + 1)
				clamp = true;
		}
	}
	if (neg)
		v = -v;
	if (clamp || v > INT_MAX)
		v = neg ? INT_MIN : INT_MAX;
	if (v < INT_MIN)
		v = INT_MIN;
	*out = (int)v;
	return 0;
}

/* ---- defaults -------------------------------------------------------- */

static int py_defaults(struct conf_py *p)
{
	memset(p, 0, sizeof *p);
	p->debug_level = 1;
	p->test_only = 1;
	p->lookup_time = 20;
	p->whitelist_lookup_time = 10;
	p->void_limit = 2;
	p->m_umask = 7;
	if (!(p->helo_reject = strdup("Fail")) ||
	    !(p->mail_from_reject = strdup("Fail")) ||
	    !(p->permerror_reject = strdup("False")) ||
	    !(p->temperror_defer = strdup("False")) ||
	    !(p->skip_addresses = strdup("127.0.0.0/8,::ffff:127.0.0.0/104,::1")) ||
	    !(p->spf_enhanced_status_codes = strdup("Yes")) ||
	    !(p->header_type = strdup("SPF")) ||
	    !(p->hide_receiver = strdup("No")) ||
	    !(p->authserv_id = strdup("HOSTNAME")) ||
	    !(p->reason_message = strdup("Message {rejectdefer} due to: {spf}. Please see {url}")) ||
	    !(p->m_socket = strdup("local:/run/pyspf-milter/pyspf-milter.sock")) ||
	    !(p->m_pidfile = strdup("/run/pyspf-milter/pyspf-milter.pid")) ||
	    !(p->m_userid = strdup("pyspf-milter")) ||
	    !(p->m_internalhosts = strdup("127.0.0.1")))
		return -1;
	return 0;
}

static void py_free(struct conf_py *p)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (keys[i].type == K_STR || keys[i].type == K_DATASET)
			free(*(char **)((char *)p + keys[i].off));
}

static void conf_free(struct conf *c)
{
	if (!c)
		return;
	if (c->py) {
		py_free(c->py);
		free(c->py);
	}
	for (size_t i = 0; i < c->nlisten; i++)
		free(c->listen[i]);
	for (size_t i = 0; i < c->ndns; i++)
		free(c->dns_servers[i]);
	free(c->socket_owner);
	free(c->user);
	free(c->group);
	free(c->path);
	free(c);
}

static struct conf *conf_new(const char *path)
{
	struct conf *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->refs = 1;
	c->py = calloc(1, sizeof *c->py);
	c->path = strdup(path ? path : CONF_DEFAULT_PATH);
	if (!c->py || !c->path || py_defaults(c->py) < 0) {
		conf_free(c);
		return NULL;
	}
	c->socket_mode = -1;
	c->workers = 0;                 /* one per online CPU (issue 3) */
	c->max_connections = 1024;
	c->idle_timeout = 3600;
	c->request_timeout = 90;
	c->dns_cache_bytes = 8u << 20;
	c->srs_escape = true;
	c->nat_warning_minutes = 60;
	return c;
}

struct conf *conf_defaults(void)
{
	return conf_new(NULL);
}

struct conf *conf_ref(struct conf *c)
{
	if (c)
		c->refs++;
	return c;
}

void conf_unref(struct conf *c)
{
	if (c && --c->refs <= 0)
		conf_free(c);
}

/* ---- the reader ------------------------------------------------------ */

/*
 * One pass over a file, for conf_load (log as Python does, stop at the
 * first fatal problem) or conf_check (report everything, go on).
 */
struct rd {
	const char *path;
	struct conf *c;
	bool check;               /* conf_check mode */
	conf_report_fn *report;
	void *arg;
	int fatal;                /* problems that stop start-up */
	unsigned kline[sizeof keys / sizeof keys[0]];   /* line each key was last set on */
	char *err;
	size_t errlen;
};

static void rd_problem(struct rd *r, bool fatal, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void rd_problem(struct rd *r, bool fatal, unsigned line, const char *fmt, ...)
{
	char msg[1024], full[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line)
		snprintf(full, sizeof full, "%s:%u: %s", r->path, line, msg);
	else
		snprintf(full, sizeof full, "%s: %s", r->path, msg);
	if (fatal) {
		if (!r->fatal && r->err && r->errlen)
			snprintf(r->err, r->errlen, "%s", full);
		r->fatal++;
	}
	if (r->check && r->report)
		r->report(r->arg, full);
}

static int set_str(char **dst, const char *v)
{
	char *n = strdup(v);

	if (!n)
		return -1;
	free(*dst);
	*dst = n;
	return 0;
}

static int split_list(char **arr, size_t max, size_t *n, const char *v)
{
	const char *p = v;

	for (size_t i = 0; i < *n; i++)
		free(arr[i]);
	*n = 0;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char *item;

		while (len && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (len) {
			if (*n >= max)
				return -2;
			if (!(item = strndup(p, len)))
				return -1;
			arr[(*n)++] = item;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

static bool parse_nonneg(const char *v, int *out)
{
	int x;

	if (conf_parse_pyint(v, &x) < 0 || x < 0)
		return false;
	*out = x;
	return true;
}

/* Our own keys: strict, a bad value stops start-up with its line. */
static void set_ours(struct rd *r, unsigned ln, const char *name, const char *v)
{
	struct conf *c = r->c;
	int x, rc;

	if (strcmp(name, "Listen") == 0) {
		rc = split_list(c->listen, CONF_MAX_LISTEN, &c->nlisten, v);
		if (rc == -2)
			rd_problem(r, true, ln, "Listen: more than %d addresses", CONF_MAX_LISTEN);
		else if (rc < 0)
			rd_problem(r, true, ln, "out of memory");
	} else if (strcmp(name, "DNS_Servers") == 0) {
		if (strcmp(v, "none") == 0 || !*v) {
			for (size_t i = 0; i < c->ndns; i++)
				free(c->dns_servers[i]);
			c->ndns = 0;
			return;
		}
		rc = split_list(c->dns_servers, CONF_MAX_DNS, &c->ndns, v);
		if (rc == -2)
			rd_problem(r, true, ln, "DNS_Servers: more than %d servers", CONF_MAX_DNS);
		else if (rc < 0)
			rd_problem(r, true, ln, "out of memory");
	} else if (strcmp(name, "Socket_Mode") == 0) {
		char *end;
		long m;

		errno = 0;
		m = strtol(v, &end, 8);
		if (!*v || *end || errno || m < 0 || m > 07777)
			rd_problem(r, true, ln, "Socket_Mode: not an octal mode: '%s'", v);
		else
			c->socket_mode = (int)m;
	} else if (strcmp(name, "Socket_Owner") == 0) {
		if (set_str(&c->socket_owner, v) < 0)
			rd_problem(r, true, ln, "out of memory");
	} else if (strcmp(name, "User") == 0) {
		if (set_str(&c->user, v) < 0)
			rd_problem(r, true, ln, "out of memory");
	} else if (strcmp(name, "Group") == 0) {
		if (set_str(&c->group, v) < 0)
			rd_problem(r, true, ln, "out of memory");
	} else if (strcmp(name, "Log_Destination") == 0) {
		if (strcmp(v, "syslog") == 0)
			c->log_stderr = 0;
		else if (strcmp(v, "stderr") == 0)
			c->log_stderr = 1;
		else
			rd_problem(r, true, ln, "Log_Destination: must be syslog or stderr: '%s'", v);
	} else if (strcmp(name, "Envelope_From_Escape") == 0) {
		if (strcmp(v, "Yes") == 0)
			c->srs_escape = true;
		else if (strcmp(v, "No") == 0)
			c->srs_escape = false;
		else
			rd_problem(r, true, ln, "Envelope_From_Escape: must be Yes or No: '%s'", v);
	} else if (strcmp(name, "SERVFAIL_Is_Temperror") == 0) {
		if (strcmp(v, "Yes") == 0)
			c->servfail_temperror = true;
		else if (strcmp(v, "No") == 0)
			c->servfail_temperror = false;
		else
			rd_problem(r, true, ln, "SERVFAIL_Is_Temperror: must be Yes or No: '%s'", v);
	} else if (strcmp(name, "DNS_Cache_Size") == 0) {
		if (!parse_nonneg(v, &x))
			rd_problem(r, true, ln, "DNS_Cache_Size: not a byte count: '%s'", v);
		else
			c->dns_cache_bytes = (size_t)x;
	} else {
		int *dst = strcmp(name, "Workers") == 0 ? &c->workers :
			   strcmp(name, "Max_Connections") == 0 ? &c->max_connections :
			   strcmp(name, "Idle_Timeout") == 0 ? &c->idle_timeout :
			   strcmp(name, "Request_Timeout") == 0 ? &c->request_timeout :
			   strcmp(name, "NAT_Warning_Interval") == 0 ? &c->nat_warning_minutes :
			   strcmp(name, "DNS_Timeout") == 0 ? &c->dns_timeout_ms :
			   strcmp(name, "DNS_Tries") == 0 ? &c->dns_tries : NULL;
		if (!dst)
			return;
		if (!parse_nonneg(v, &x))
			rd_problem(r, true, ln, "%s: not a non-negative integer: '%s'", name, v);
		else
			*dst = x;
	}
}

static void rd_line(struct rd *r, unsigned ln, char *line, size_t len)
{
	struct conf_py *p = r->c->py;
	char *hash, *s, *name, *value, *eq;
	size_t n;
	const struct key *k;
	int x;

	/* a NUL cannot be carried in our strings: the line is refused as the
	 * Python reader refuses a line it cannot split (documented) */
	if (memchr(line, '\0', len)) {
		if (!r->check)
			log_info("ERROR parsing line \"%s\" from file \"%s\"", line, r->path);
		rd_problem(r, false, ln, "line contains a NUL byte; ignored");
		return;
	}
	if ((hash = strchr(line, '#')))
		*hash = '\0';
	s = pystr_strip(line, &n);
	s[n] = '\0';
	if (!n)
		return;
	/* count the pieces */
	size_t pieces = 1;
	for (char *q = s; (q = strchr(q, '=')); q++)
		pieces++;
	if (pieces == 1) {
		rd_problem(r, false, ln, "no '=' in \"%s\"; ignored (as the Python reader does)", s);
		return;
	}
	if (pieces > 2) {
		if (!r->check)
			log_info("ERROR parsing line \"%s\" from file \"%s\"", s, r->path);
		rd_problem(r, false, ln, "ERROR parsing line \"%s\": a value cannot contain '='; line ignored", s);
		return;
	}
	eq = strchr(s, '=');
	*eq = '\0';
	name = pystr_strip(s, &n);
	name[n] = '\0';
	value = pystr_strip(eq + 1, &n);
	value[n] = '\0';

	if (!(k = key_find(name)) || k->pu_only) {
		if (!r->check)
			log_info("ERROR: Unknown name \"%s\" in file \"%s\"", name, r->path);
		rd_problem(r, false, ln, "ERROR: Unknown name \"%s\"; line ignored (names are case-sensitive)", name);
		return;
	}
	if (k->type != K_OURS)
		note_added(p, k);
	r->kline[k - keys] = ln;
	switch (k->type) {
	case K_STR:
	case K_DATASET:
		if (set_str((char **)((char *)p + k->off), value) < 0)
			rd_problem(r, true, ln, "out of memory");
		break;
	case K_BOOL:
		*(bool *)((char *)p + k->off) = *value != '\0';
		break;
	case K_INT:
		if (conf_parse_pyint(value, &x) < 0) {
			char rep[600];

			pystr_repr(value, rep, sizeof rep);
			if (!r->check)
				log_info("invalid literal for int() with base 10: %s", rep);
			rd_problem(r, true, ln, "invalid literal for int() with base 10: %s (%s)", rep, name);
			break;
		}
		*(int *)((char *)p + k->off) = x;
		if (strcmp(name, "defaultSeedOnly") == 0)
			p->has_default_seed_only = true;
		break;
	case K_OURS:
		set_ours(r, ln, name, value);
		break;
	}
}

/* Read the whole file; NULL with errno, or EFBIG. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			if (cap >= CONF_MAX_FILE) {
				free(buf);
				fclose(f);
				errno = EFBIG;
				return NULL;
			}
			cap = cap ? cap * 2 : 8192;
			if (!(nb = realloc(buf, cap + 1))) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				int e = errno ? errno : EIO;

				free(buf);
				fclose(f);
				errno = e;
				return NULL;
			}
			break;
		}
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int rd_hostname(struct rd *r);

/* The lines of one file already in memory (buf[len] is a NUL we may overwrite). */
static int rd_buf(struct rd *r, char *buf, size_t len)
{
	size_t i, start;
	unsigned ln = 0;

	if (!pystr_utf8_valid(buf, len, &i)) {
		/* Python stops with the codec name as the whole message */
		if (!r->check)
			log_info("utf-8");
		ln = 1;
		for (size_t j = 0; j < i; j++)
			if (buf[j] == '\n' || (buf[j] == '\r' && buf[j + 1] != '\n'))
				ln++;
		rd_problem(r, true, ln, "not valid UTF-8 (byte offset %zu)", i);
		return -1;
	}
	for (start = 0, i = 0; i <= len; i++) {
		if (i < len && buf[i] != '\n' && buf[i] != '\r')
			continue;
		ln++;
		size_t end = i;
		if (i < len && buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
			i++;
		if (i == len && start == len)
			break;
		buf[end] = '\0';
		rd_line(r, ln, buf + start, end - start);
		if (r->fatal && !r->check)
			break;
		start = i + 1;
	}
	return r->fatal ? -1 : 0;
}

/* Returns 0 (file read or defaults kept) or -1 (fatal problem). */
static int rd_file(struct rd *r)
{
	struct stat st;
	size_t len;
	char *buf;

	if (stat(r->path, &st) < 0) {
		if (!r->check)
			log_err("ERROR stating \"%s\": %s", r->path, strerror(errno));
		rd_problem(r, false, 0, "cannot stat: %s; built-in defaults used", strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		if (!r->check)
			log_err("ERROR: is not a file: \"%s\", mode=0o%o", r->path, (unsigned)st.st_mode);
		rd_problem(r, false, 0, "not a regular file (mode=0o%o); built-in defaults used",
			   (unsigned)st.st_mode);
		return 0;
	}
	if (!(buf = slurp(r->path, &len))) {
		rd_problem(r, true, 0, "cannot read: %s", strerror(errno));
		if (!r->check)
			log_err("ERROR reading \"%s\": %s", r->path, strerror(errno));
		return -1;
	}
	if (rd_buf(r, buf, len) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	/* Python replaces HOSTNAME only after reading a file */
	return rd_hostname(r);
}

static int rd_hostname(struct rd *r)
{
	if (strcmp(r->c->py->authserv_id, "HOSTNAME") == 0) {
		char host[256];

		if (gethostname(host, sizeof host - 1) == 0) {
			host[sizeof host - 1] = '\0';
			if (set_str(&r->c->py->authserv_id, host) < 0)
				return -1;
		}
	}
	return 0;
}

struct conf *conf_load(const char *path, char *err, size_t errlen)
{
	struct rd r = { 0 };

	if (err && errlen)
		err[0] = '\0';
	if (!(r.c = conf_new(path))) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", path ? path : CONF_DEFAULT_PATH);
		return NULL;
	}
	r.path = r.c->path;
	r.err = err;
	r.errlen = errlen;
	if (rd_file(&r) < 0) {
		if (err && errlen && !err[0])
			snprintf(err, errlen, "%s: cannot load", r.path);
		conf_free(r.c);
		return NULL;
	}
	return r.c;
}

struct conf *conf_load_buf(const char *name, const char *data, size_t len, char *err, size_t errlen)
{
	struct rd r = { 0 };
	char *buf;

	if (err && errlen)
		err[0] = '\0';
	if (!(r.c = conf_new(name)) || !(buf = malloc(len + 1))) {
		conf_free(r.c);
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	memcpy(buf, data, len);
	buf[len] = '\0';
	r.path = r.c->path;
	r.err = err;
	r.errlen = errlen;
	if (rd_buf(&r, buf, len) < 0 || rd_hostname(&r) < 0) {
		free(buf);
		if (err && errlen && !err[0])
			snprintf(err, errlen, "%s: cannot load", r.path);
		conf_free(r.c);
		return NULL;
	}
	free(buf);
	return r.c;
}

/* ---- conf_check: the reader's problems plus what Python trips on ----- */

static unsigned kl(const struct rd *r, const char *name)
{
	const struct key *k = key_find(name);

	return k ? r->kline[k - keys] : 0;
}

static void chk_semantics(struct rd *r)
{
	const struct conf_py *p = r->c->py;
	static const char *const helo_ok[] = { "SPF_Not_Pass", "Softfail", "Fail", "Null", "False", "No_Check", NULL };
	static const char *const mfrom_ok[] = { "SPF_Not_Pass", "Softfail", "Fail", "False", "No_Check", NULL };
	char why[256];

	for (int which = 0; which < 2; which++) {
		const char *v = which ? p->mail_from_reject : p->helo_reject;
		const char *const *ok = which ? mfrom_ok : helo_ok;
		bool found = false;

		for (size_t i = 0; ok[i]; i++)
			found |= strcmp(ok[i], v) == 0;
		if (!found)
			rd_problem(r, false, kl(r, which ? "Mail_From_reject" : "HELO_reject"), "%s = '%s' is not one of the exact values: no result "
				   "is rejected by it (values are case-sensitive)",
				   which ? "Mail_From_reject" : "HELO_reject", v);
	}
	if (strcmp(p->permerror_reject, "True") && strcmp(p->permerror_reject, "False"))
		rd_problem(r, false, kl(r, "PermError_reject"), "PermError_reject = '%s' means False (only exact True turns it on)",
			   p->permerror_reject);
	if (strcmp(p->temperror_defer, "True") && strcmp(p->temperror_defer, "False"))
		rd_problem(r, false, kl(r, "TempError_Defer"), "TempError_Defer = '%s' means False (only exact True turns it on)",
			   p->temperror_defer);
	if (p->skip_addresses && !*p->skip_addresses)
		rd_problem(r, false, kl(r, "skip_addresses"), "skip_addresses is empty: the Python server crashes on every "
			   "request; this one treats it as an empty list");
	if (strstr(p->header_type, "SPF") && strstr(p->header_type, "AR"))
		rd_problem(r, false, kl(r, "Header_Type"), "Header_Type = '%s' contains both SPF and AR: the Python server "
			   "crashes on SPF-checked requests", p->header_type);
	if (strstr(p->header_type, "AR") && !*p->authserv_id)
		rd_problem(r, false, kl(r, "Authserv_Id") ? kl(r, "Authserv_Id") : kl(r, "Header_Type"), "Header_Type AR with an empty Authserv_Id: the Python server "
			   "crashes on SPF-checked requests");
	if (p->mock)
		rd_problem(r, false, kl(r, "Mock"), "Mock is on (any non-empty value, even False, turns it on): "
			   "every request gets action=dunno and no check");
	if (p->has_default_seed_only)
		rd_problem(r, false, kl(r, "defaultSeedOnly"), "defaultSeedOnly has no effect (deprecated)");
	if (p->per_user && *p->per_user) {
		const char *comma = strchr(p->per_user, ',');

		if (!comma || strchr(comma + 1, ','))
			rd_problem(r, false, kl(r, "Per_User"), "Per_User = '%s' must be text,<path>", p->per_user);
		else if (strncmp(p->per_user, "text,", 5) != 0)
			rd_problem(r, false, kl(r, "Per_User"), "Per_User type must be 'text'");
	}
	if (pystr_format_check(p->reason_message, why, sizeof why) < 0)
		rd_problem(r, false, kl(r, "Reason_Message"), "Reason_Message: %s", why);
	for (int which = 0; which < 2; which++) {
		const char *v = which ? p->whitelist : p->skip_addresses;

		if (v && *v && iplist_check(v, why, sizeof why) < 0)
			rd_problem(r, false, kl(r, which ? "Whitelist" : "skip_addresses"), "%s: %s", which ? "Whitelist" : "skip_addresses", why);
	}
}

int conf_check(const char *path, conf_report_fn *report, void *arg)
{
	struct rd r = { 0 };
	int fatal;

	if (!(r.c = conf_new(path))) {
		if (report)
			report(arg, "out of memory");
		return 1;
	}
	r.path = r.c->path;
	r.check = true;
	r.report = report;
	r.arg = arg;
	rd_file(&r);
	chk_semantics(&r);
	fatal = r.fatal;
	conf_free(r.c);
	return fatal;
}

/* ---- Per_User = text,<path> (reference §2.6) -------------------------- */

/*
 * Read once per request, as the Python server does (the file is small and
 * local; a cache would only save a stat and a read).  Where the Python
 * server crashes (bad Per_User value, line without ',', pair without
 * exactly one '=', bad integer, unreadable file), this logs an error and
 * goes on without the broken part; see policyd-spf.conf(5).
 */

#define PU_MAX_FILE (4u << 20)

static int pu_own(struct conf_peruser *pu, char *s)
{
	char **n = realloc(pu->owned, (pu->nowned + 1) * sizeof *n);

	if (!n) {
		free(s);
		return -1;
	}
	pu->owned = n;
	pu->owned[pu->nowned++] = s;
	return 0;
}

static void pu_apply(struct conf_peruser *pu, const char *path, const char *key, size_t kl,
		     const char *val, size_t vl, int dbg)
{
	char name[64];
	const struct key *k;

	if (kl >= sizeof name) {
		if (dbg >= 0)
			log_err("ERROR: Unknown name \"%.*s\" in file \"%s\" in per user settings",
				(int)kl, key, path);
		return;
	}
	memcpy(name, key, kl);
	name[kl] = '\0';
	k = key_find(name);
	if (k && k->per_user && k->type != K_OURS)
		note_added(&pu->py, k);
	if (!k || !k->per_user || k->type == K_OURS) {
		if (dbg >= 0)
			log_err("ERROR: Unknown name \"%s\" in file \"%s\" in per user settings", name, path);
		return;
	}
	char *v = strndup(val, vl);

	if (!v)
		return;
	if (k->type == K_INT) {
		int x;

		if (conf_parse_pyint(v, &x) < 0) {
			char rep[300];

			pystr_repr(v, rep, sizeof rep);
			log_err("ERROR: invalid literal for int() with base 10: %s for \"%s\" in file \"%s\" "
				"in per user settings; ignored", rep, name, path);
			free(v);
			return;
		}
		*(int *)((char *)&pu->py + k->off) = x;
		if (strcmp(name, "defaultSeedOnly") == 0)
			pu->py.has_default_seed_only = true;
		free(v);
		return;
	}
	if (pu_own(pu, v) < 0)
		return;
	*(char **)((char *)&pu->py + k->off) = v;
}

/* One matching line's settings: "k=v|k=v"; later duplicates win. */
static void pu_settings(struct conf_peruser *pu, const char *path, const char *set, int dbg)
{
	const char *p = set;

	for (;;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		const char *eq = memchr(p, '=', n);

		if (!eq || memchr(eq + 1, '=', n - (size_t)(eq - p) - 1)) {
			log_err("ERROR: per user setting \"%.*s\" in file \"%s\" is not key=value; ignored",
				(int)(n > 200 ? 200 : n), p, path);
		} else {
			pu_apply(pu, path, p, (size_t)(eq - p), eq + 1, n - (size_t)(eq - p) - 1, dbg);
		}
		if (!bar)
			break;
		p = bar + 1;
	}
}

void conf_peruser_lookup(const struct conf *c, const char *recipient, struct conf_peruser *pu)
{
	const struct conf_py *g = c->py;
	int dbg = g->debug_level;
	const char *v = g->per_user, *comma;
	char *path = NULL, *buf = NULL;
	size_t len;
	struct stat st;

	memset(pu, 0, sizeof *pu);
	pu->py = *g;
	if (!v || !*v)
		return;
	if (dbg >= 3) {
		log_info("Starting to process per-user settings");
		log_info("User data: %s", v);
	}
	comma = strchr(v, ',');
	if (!comma || strchr(comma + 1, ',') || (size_t)(comma - v) != 4 || strncmp(v, "text", 4)) {
		log_err("ERROR: Per_User must be text,<path>: \"%s\"; per user settings not used", v);
		return;
	}
	if (!(path = strdup(comma + 1)))
		return;
	if (dbg >= 4) {
		log_info("Reading per user data (type text) from:  \"%s\"", path);
		log_info("readUserConfigFile: Loading \"%s\"", path);
	}
	if (stat(path, &st) < 0) {
		if (dbg >= 0)
			log_err("ERROR stating \"%s\": %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)PU_MAX_FILE) {
		log_err("ERROR: per user file \"%s\" is not a regular file of at most %u bytes; not used",
			path, PU_MAX_FILE);
		goto out;
	}
	if (!(buf = slurp(path, &len))) {
		log_err("ERROR reading \"%s\": %s; per user settings not used", path, strerror(errno));
		goto out;
	}
	if (!pystr_utf8_valid(buf, len, NULL)) {
		log_err("ERROR: \"%s\" is not valid UTF-8; per user settings not used", path);
		goto out;
	}
	for (size_t i = 0, start = 0; i <= len; i++) {
		if (i < len && buf[i] != '\n' && buf[i] != '\r')
			continue;
		size_t end = i;
		char *line = buf + start, *s, *hash, *user, *set, *cm;
		size_t n, un, sn;

		if (i < len && buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
			i++;
		start = i + 1;
		buf[end] = '\0';
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		s = pystr_strip(line, &n);
		s[n] = '\0';
		if (!n)
			continue;
		if (!(cm = strchr(s, ','))) {
			log_err("ERROR: per user line \"%s\" in file \"%s\" has no ','; ignored", s, path);
			continue;
		}
		*cm = '\0';
		user = pystr_strip(s, &un);
		user[un] = '\0';
		if (strcmp(user, recipient) != 0)
			continue;
		set = pystr_strip(cm + 1, &sn);
		set[sn] = '\0';
		pu_settings(pu, path, set, dbg);
		pu->matched = true;
		break;
	}
out:
	if (dbg >= 4) {
		char *d = conf_py_repr(&pu->py);

		log_info("Per-user settings for \"%s\": \"%s\"", recipient, d ? d : "{}");
		free(d);
	}
	free(buf);
	free(path);
}

void conf_peruser_free(struct conf_peruser *pu)
{
	for (size_t i = 0; i < pu->nowned; i++)
		free(pu->owned[i]);
	free(pu->owned);
	pu->owned = NULL;
	pu->nowned = 0;
}

/* ---- the Config: log line ------------------------------------------------ */

static void repr_key(FILE *f, const struct conf_py *p, const struct key *k)
{
	char *v;

	if (strcmp(k->name, "No_Mail") == 0 && !p->no_mail) {
		fputs("False", f);
		return;
	}
	switch (k->type) {
	case K_INT:
		fprintf(f, "%d", *(const int *)((const char *)p + k->off));
		return;
	case K_BOOL:
		if (strcmp(k->name, "IntHosts") == 0) {
			/* Python replaced it by an object; its address differs per run */
			fputs("<spf_engine.config.HostsDataset object at 0x0>", f);
			return;
		}
		fputs(*(const bool *)((const char *)p + k->off) ? "True" : "False", f);
		return;
	case K_DATASET:
		v = *(char *const *)((const char *)p + k->off);
		if (!v) {            /* MacroList's default is the string '' */
			fputs("''", f);
			return;
		}
		fputc('[', f);
		for (const char *q = v ? v : "", *e; *q; q = *e ? e + 1 : e) {
			size_t n;
			char *item, *st, rep[600];

			e = q + strcspn(q, ",");
			if (!(item = strndup(q, (size_t)(e - q))))
				break;
			st = pystr_strip(item, &n);
			st[n] = '\0';
			if (n) {
				pystr_repr(st, rep, sizeof rep);
				fprintf(f, "%s%s", q == v ? "" : ", ", rep);
			}
			free(item);
		}
		fputc(']', f);
		return;
	default:
		v = *(char *const *)((const char *)p + k->off);
		if (!v) {
			fputs("None", f);
			return;
		}
		size_t cap = strlen(v) * 4 + 8;
		char *rep = malloc(cap);

		if (rep) {
			pystr_repr(v, rep, cap);
			fputs(rep, f);
			free(rep);
		}
		return;
	}
}

char *conf_py_repr(const struct conf_py *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool first = true;

	if (!f)
		return NULL;
	fputc('{', f);
	for (size_t i = 0; py_default_order[i]; i++) {
		const struct key *k = key_find(py_default_order[i]);

		fprintf(f, "%s'%s': ", first ? "" : ", ", py_default_order[i]);
		first = false;
		if (k)
			repr_key(f, p, k);
		else
			fputs("True", f);   /* QueueID */
	}
	for (size_t i = 0; i < p->nadded; i++) {
		const struct key *k = &keys[p->added[i]];

		fprintf(f, ", '%s': ", k->name);
		repr_key(f, p, k);
	}
	fputc('}', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
