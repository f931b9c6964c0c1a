/*
 * spf_exp - the explanation of a fail (and softfail, as pyspf gives it):
 * exp= of the top-level record, fetched and expanded only when needed;
 * anything wrong with it gives the default explanation, never an error.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"
#include "spf_eval.h"
#include "spf_macro.h"
#include "spf_record.h"

/*
 * pyspf drops non-ASCII explanations but keeps control bytes (a TAB is
 * common); the policy layer turns those into '?' before they reach a
 * reply.  NUL would cut the text short, so it makes the exp unusable.
 */
static bool exp_text_ok(const struct dns_rr *r)
{
	for (size_t k = 0; k < r->len; k++)
		if (r->data[k] == 0 || r->data[k] >= 0x80)
			return false;
	return true;
}

void spf_exp_default(struct spf_check *c)
{
	if (c->default_exp == NULL)
		return;
	struct frame *f = spf_eval_top(c);
	struct spf_macro_vars v = {
		.s = c->sender, .l = c->local, .o = c->odomain, .d = f->domain, .i = c->cl.i,
		.p = c->p_value ? c->p_value : "unknown", .v = c->cl.v6 ? "ip6" : "in-addr",
		.h = c->helo, .c = c->cl.c, .r = c->receiver, .t = spf_eval_tstamp(c),
	};
	char err[256];
	char *out;
	if (spf_macro_expand(c->default_exp, strlen(c->default_exp), &v, SPF_MACRO_EXP, &out, err,
			     sizeof(err)) == SPF_MACRO_OK)
		c->explanation = out;
	else
		c->explanation = strdup(c->default_exp);
	c->exp_from_record = false;
}

void spf_exp_start(struct spf_check *c)
{
	struct frame *f = spf_eval_top(c);
	if ((c->result != SPF_FAIL && c->result != SPF_SOFTFAIL)) {
		c->finished = true;
		c->phase = PH_END;
		return;
	}
	c->in_exp = true;
	if (f->rec == NULL || f->rec->exp == NULL) {
		spf_exp_default(c);
		c->finished = true;
		c->phase = PH_END;
		return;
	}
	char *target;
	int r = spf_eval_expand(c, f->rec->exp, 0, &target);
	if (r <= 0) {
		if (r < 0)
			spf_exp_default(c);
		return;
	}
	spf_eval_trace(c, "exp=%s -> %s", f->rec->exp, target);
	spf_lookup_one(c, OP_EXP, target, DNS_T_TXT);
	free(target);
}

void spf_exp_answer(struct spf_check *c)
{
	struct slot *s = &c->slots[0];
	struct frame *f = spf_eval_top(c);
	c->finished = true;
	c->phase = PH_END;
	if (s->st != DNS_S_OK || s->n != 1 || !exp_text_ok(&s->rr[0])) {
		spf_eval_trace(c, "explanation unusable (%s, %zu records)", dns_status_str(s->st), s->n);
		spf_exp_default(c);
		return;
	}
	struct spf_macro_vars v = {
		.s = c->sender, .l = c->local, .o = c->odomain, .d = f->domain, .i = c->cl.i,
		.p = c->p_value, .v = c->cl.v6 ? "ip6" : "in-addr", .h = c->helo, .c = c->cl.c,
		.r = c->receiver, .t = spf_eval_tstamp(c),
	};
	char err[256];
	char *out;
	int r = spf_macro_expand((const char *)s->rr[0].data, s->rr[0].len, &v, SPF_MACRO_EXP, &out,
				 err, sizeof(err));
	if (r == SPF_MACRO_NEED_P) {
		/* fetch %{p}, then come back here through PH_EXP */
		c->finished = false;
		c->phase = PH_EXP;
		spf_lookup_free(c);
		spf_eval_start_ptr(c, true, NULL);
		return;
	}
	if (r != SPF_MACRO_OK) {
		spf_eval_trace(c, "explanation unusable: %s", err);
		spf_exp_default(c);
		return;
	}
	/* pyspf cuts one leading "label" off any expansion over 253 characters,
	 * explanations included; the reject text must match it */
	char *dot = strchr(out, '.');
	if (strlen(out) > 253 && dot)
		memmove(out, dot + 1, strlen(dot + 1) + 1);
	spf_eval_trace(c, "explanation: %s", out);
	c->explanation = out;
	c->exp_from_record = true;
}
