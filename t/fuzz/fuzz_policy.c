/*
 * fuzz_policy - libFuzzer target for the decision and its strings
 * (lib/policy_decide.c, lib/policy_fmt.c): the input is split at NUL
 * into a config text, the request attributes (client_address, helo_name,
 * sender, receiver, instance, queue_id) and two bytes choosing the HELO
 * and MAIL FROM results; the same request is decided twice against one
 * instance cache (first recipient, replay).  Checks that the action line
 * never holds CR, LF or NUL and that nothing crashes or leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "policy_cache.h"
#include "policy_decide.h"
#include "policy_fmt.h"

static const char *field(const char **p, const char *end)
{
	const char *s = *p;
	const char *z = memchr(s, '\0', (size_t)(end - s));

	if (!z)
		return NULL;
	*p = z + 1;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int opened;
	const char *p = (const char *)data, *end = p + size, *f[7];
	char err[256];
	struct conf *c;
	struct policy_cache *pc;

	if (!opened) {
		log_open("fuzz_policy", LOG_DEST_SYSLOG);
		opened = 1;
	}
	for (int i = 0; i < 7; i++)
		if (!(f[i] = field(&p, end)))
			return 0;
	if (end - p < 2)
		return 0;
	if (!(c = conf_load_buf("fuzz.conf", f[0], strlen(f[0]), err, sizeof err)))
		return 0;
	if (!(pc = pcache_new(4))) {
		conf_unref(c);
		return 0;
	}
	for (int round = 0; round < 2; round++) {
		struct pd_req r = { 0 };
		const char *out = NULL;

		r.conf = c;
		r.py = c->py;
		r.gdebug = -1;
		r.client_address = *f[1] ? f[1] : NULL;
		r.helo_name = f[2];
		r.sender = *f[3] == '-' ? NULL : f[3];
		r.rcv = f[4];
		r.instance = *f[5] ? f[5] : NULL;
		r.queue_id = f[6];
		r.cache = pc;
		pd_prepare(&r);
		if (!r.ip || !pd_replay(&r, &out)) {
			enum spf_result hr = (enum spf_result)((unsigned char)p[0] % 7);
			enum spf_result mr = (enum spf_result)((unsigned char)p[1] % 7);

			pd_spf_set(&r, &r.helo_spf, hr, (p[0] & 0x80) ? f[2] : NULL, "x", NULL, 0);
			pd_spf_set(&r, &r.mfrom_spf, mr, (p[1] & 0x80) ? f[3] : NULL, "y",
				   (p[0] & 0x40) ? "v=spf1 -all" : NULL, 11);
			(void)pd_helo_decides(&r);
			out = pd_decide(&r);
		}
		if (out && (strchr(out, '\r') || strchr(out, '\n')))
			abort();
		pd_req_free(&r);
	}
	pcache_free(pc);
	conf_unref(c);
	return 0;
}
