/*
 * fuzz_conf - libFuzzer target for the config side: the first byte picks
 * the parser, the rest is its input.
 *   0: a whole policyd-spf.conf (lib/conf.c, conf_load_buf)
 *   1: a Reason_Message template (pystr_format) with the three fields
 *   2: a skip_addresses/Whitelist list and, after the first LF, a client
 *      address (iplist_match)
 * Checks that nothing crashes or leaks and that formatted text and error
 * texts are NUL-terminated and bounded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "iplist.h"
#include "log.h"
#include "pystr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int opened;
	char err[512], *s;

	if (!opened) {
		/* keep the reader's log lines out of the fuzzer's output */
		log_open("fuzz_conf", LOG_DEST_SYSLOG);
		opened = 1;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: {
		struct conf *c = conf_load_buf("fuzz.conf", (const char *)data + 1, size - 1, err, sizeof err);

		if (!c && strlen(err) >= sizeof err)
			abort();
		conf_unref(c);
		break;
	}
	case 1: {
		static const struct pystr_field f[3] = {
			{ "rejectdefer", "rejected" }, { "spf", "SPF fail - not authorized" }, { "url", "http://x/" },
		};

		if (!(s = strndup((const char *)data + 1, size - 1)))
			return 0;
		char *out = pystr_format(s, f, 3, err, sizeof err);

		if (out && strlen(out) > 10 * size + 200000)
			abort();
		free(out);
		free(s);
		break;
	}
	default: {
		const char *bad;
		size_t badlen;

		if (!(s = strndup((const char *)data + 1, size - 1)))
			return 0;
		char *nl = strchr(s, '\n');
		const char *ip = "192.0.2.1";

		if (nl) {
			*nl = '\0';
			ip = nl + 1;
		}
		if (iplist_match(s, ip, &bad, &badlen, err, sizeof err) < 0 &&
		    (bad < s || bad + badlen > s + strlen(s)))
			abort();
		free(s);
		break;
	}
	}
	return 0;
}
