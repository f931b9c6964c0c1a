/*
 * policy_fmt - header and reply strings of the Python policyd-spf, byte for
 * byte (see policy_fmt.h and reference §5).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_fmt.h"
#include "attr.h"
#include "pystr.h"

#define DEFAULT_REASON_MESSAGE "Message {rejectdefer} due to: {spf}. Please see {url}"

#define PF_FAST_ARGS 12

/*
 * Every header and reply goes through here, several per request, and
 * nearly every format has only %s conversions: for those, concatenate by
 * hand (what vasprintf would produce, "(null)" included) instead of
 * running the printf machinery.  Anything else takes vasprintf.
 */
static char *pf_concat(const char *fmt, va_list ap)
{
	const char *arg[PF_FAST_ARGS];
	size_t alen[PF_FAST_ARGS], n = 0, len = 0;
	char *out, *o;

	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			len++;
			continue;
		}
		if (f[1] != 's' || n == PF_FAST_ARGS)
			return NULL;
		f++;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		arg[i] = va_arg(ap, const char *);
		if (arg[i] == NULL)
			arg[i] = "(null)";
		alen[i] = strlen(arg[i]);
		len += alen[i];
	}
	if (len >= (size_t)INT_MAX || !(out = malloc(len + 1)))
		return NULL;
	o = out;
	n = 0;
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			*o++ = *f;
			continue;
		}
		memcpy(o, arg[n], alen[n]);
		o += alen[n++];
		f++;
	}
	*o = '\0';
	return out;
}

static bool pf_fast_fmt(const char *fmt)
{
	size_t n = 0;

	for (const char *f = strchr(fmt, '%'); f; f = strchr(f + 2, '%'))
		if (f[1] != 's' || ++n > PF_FAST_ARGS)
			return false;
	return true;
}

char *pf_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	if (pf_fast_fmt(fmt)) {
		s = pf_concat(fmt, ap);
		va_end(ap);
		if (s == NULL)
			return NULL;
		pf_sanitize(s);
		return s;
	}
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	pf_sanitize(s);
	return s;
}

void pf_sanitize(char *s)
{
	for (unsigned char *p = (unsigned char *)s; p && *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			*p = '?';
}

char *pf_reason(enum spf_result r, const char *explanation, const char *problem)
{
	switch (r) {
	case SPF_PASS:
		return pf_asprintf("sender SPF authorized");
	case SPF_FAIL:
		return pf_asprintf("%s", explanation ? explanation : "SPF fail - not authorized");
	case SPF_SOFTFAIL:
		return pf_asprintf("%s", explanation ? explanation : "domain owner discourages use of this host");
	case SPF_NEUTRAL:
		return pf_asprintf("access neither permitted nor denied");
	case SPF_PERMERROR:
		return pf_asprintf("SPF Permanent Error: %s", problem ? problem : "");
	case SPF_TEMPERROR:
		return pf_asprintf("SPF Temporary Error: %s", problem ? problem : "");
	case SPF_NONE:
	default:
		return pf_asprintf("%s", "");
	}
}

char *pf_envelope_from(const char *sender, bool escape)
{
	size_t n = 0;
	char *out, *o;

	if (!escape || !strchr(sender, '='))
		return pf_asprintf("%s", sender);
	for (const char *p = sender; *p; p++)
		n += (*p == '=' || *p == '"' || *p == '\\') ? 2 : 1;
	if (!(out = malloc(n + 3)))
		return NULL;
	o = out;
	*o++ = '"';
	for (const char *p = sender; *p; p++) {
		if (*p == '=' || *p == '"' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o++ = '"';
	*o = '\0';
	pf_sanitize(out);
	return out;
}

char *pf_received_spf(const char *title, const char *comment, const char *identity,
		      const char *ip, const char *helo, const char *env_from, const char *rcv)
{
	return pf_asprintf("Received-SPF: %s (%s) identity=%s; client-ip=%s; helo=%s; envelope-from=%s; receiver=%s ",
			   title, comment, identity, ip, helo, env_from, rcv);
}

static bool is_token(const char *v)
{
	if (!*v)
		return false;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      strchr("!#$%&'*+.^_`{|}~-", *p)))
			return false;
	return true;
}

char *pf_ar_quote(const char *v)
{
	size_t n = 0;
	char *out, *o;

	if (strchr(v, '@') || is_token(v))
		return pf_asprintf("%s", v);
	for (const char *p = v; *p; p++)
		n += (*p == '"' || *p == '\\') ? 2 : 1;
	if (!(out = malloc(n + 3)))
		return NULL;
	o = out;
	*o++ = '"';
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o++ = '"';
	*o = '\0';
	pf_sanitize(out);
	return out;
}

static char *lower_dup(const char *s)
{
	return attr_lower_dup(s, strlen(s));
}

char *pf_auth_results(const char *authserv_id, const char *title, const char *reason,
		      const char *prop, const char *value, const char *ip, const char *helo,
		      const char *env_from, const char *rcv)
{
	char *id = lower_dup(authserv_id), *res = lower_dup(title), *q = pf_ar_quote(value), *out = NULL;

	if (id && res && q) {
		if (reason && *reason)
			out = pf_asprintf("Authentication-Results: %s; spf=%s (%s) smtp.%s=%s (client-ip=%s; helo=%s; envelope-from=%s; receiver=%s)",
					  id, res, reason, prop, q, ip, helo, env_from, rcv);
		else
			out = pf_asprintf("Authentication-Results: %s; spf=%s smtp.%s=%s (client-ip=%s; helo=%s; envelope-from=%s; receiver=%s)",
					  id, res, prop, q, ip, helo, env_from, rcv);
	}
	free(id);
	free(res);
	free(q);
	return out;
}

char *pf_bypass_header(bool ar, const char *authserv_id, const char *comment,
		       const char *client, const char *helo, const char *sender, const char *rcv)
{
	if (ar) {
		char *id = lower_dup(authserv_id), *out;

		if (!id)
			return NULL;
		out = pf_asprintf("Authentication-Results: %s; none (%s client-ip=%s; helo=%s; envelope-from=%s; receiver=%s)",
				  id, comment, client, helo, sender, rcv);
		free(id);
		return out;
	}
	return pf_asprintf("X-Comment: %sclient-ip=%s; helo=%s; envelope-from=%s; receiver=%s ",
			   comment, client, helo, sender, rcv);
}

char *pf_reject_text(const char *tmpl, bool defer, const char *reason, const char *scope,
		     const char *identity, const char *ip, const char *rcv,
		     char *why, size_t whylen)
{
	char *url = pf_asprintf("http://www.openspf.net/Why?s=%s;id=%s;ip=%s;r=%s", scope, identity, ip, rcv);
	struct pystr_field f[3] = {
		{ "rejectdefer", defer ? "deferred" : "rejected" },
		{ "spf", reason },
		{ "url", url },
	};
	char *out;

	if (whylen)
		why[0] = '\0';
	if (!url)
		return NULL;
	out = pystr_format(tmpl, f, 3, why, whylen);
	if (!out)
		out = pystr_format(DEFAULT_REASON_MESSAGE, f, 3, NULL, 0);
	free(url);
	pf_sanitize(out);
	return out;
}

char *pf_pylist(const char *const *items, size_t n)
{
	size_t cap = 3;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		cap += (items[i] ? strlen(items[i]) * 4 + 3 : 4) + 2;
	if (!(out = malloc(cap)))
		return NULL;
	o = out;
	*o++ = '[';
	for (size_t i = 0; i < n; i++) {
		if (i) {
			*o++ = ',';
			*o++ = ' ';
		}
		if (items[i]) {
			pystr_repr(items[i], o, cap - (size_t)(o - out));
			o += strlen(o);
		} else {
			memcpy(o, "None", 4);
			o += 4;
		}
	}
	*o++ = ']';
	*o = '\0';
	pf_sanitize(out);
	return out;
}
