/*
 * attr_dump - read policy request lines on stdin, print how lib/attr
 * parsed each one (for t/attr-python.t, which compares with Python):
 *   END            the line ends a request
 *   NOMATCH        the line is ignored
 *   BOUND          a bound was hit
 *   KV <name> <value>   hex-encoded name and value
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"

static void
hex(const char *s)
{
	for (; *s != '\0'; s++)
		printf("%02x", (unsigned char)*s);
}

int
main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct attr_req r;
	const char *err;

	attr_req_init(&r);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		size_t len = (size_t)n;
		int rc;

		if (line[len - 1] == '\n')
			len--;
		/* a fresh request each time, so that every line is shown; reset
		 * keeps the arena, as a connection does between requests */
		attr_req_reset(&r);
		rc = attr_req_add_line(&r, line, len, &err);
		if ((rc == ATTR_END) != attr_line_is_end(line, len)) {
			fprintf(stderr, "attr_dump: ATTR_END and attr_line_is_end() disagree\n");
			return 1;
		}
		if (rc == ATTR_END) {
			printf("END\n");
		} else if (rc == ATTR_NOMATCH) {
			printf("NOMATCH\n");
		} else if (rc == ATTR_BOUND) {
			printf("BOUND\n");
		} else {
			printf("KV ");
			hex(attr_name(&r, 0));
			printf(" ");
			hex(attr_value(&r, 0));
			printf("\n");
		}
	}
	attr_req_clear(&r);
	free(line);
	return 0;
}
