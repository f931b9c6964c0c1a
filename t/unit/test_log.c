/*
 * test_log - the stderr sink: ident from argv[0]'s base name, one line per
 * message, control bytes escaped as rsyslog does (#ooo), long messages cut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

int
main(void)
{
	char path[] = "/tmp/test_log.XXXXXX";
	char want[256], got[8192], big[6000];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	FILE *f;
	size_t n;

	if (fd < 0 || saved < 0)
		return 1;
	dup2(fd, STDERR_FILENO);
	log_open("/usr/sbin/policyd-spf", LOG_DEST_STDERR);
	log_info("a\nb\rc%cd\te", 1);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_err("%s", big);
	dup2(saved, STDERR_FILENO);
	close(saved);

	f = fopen(path, "r");
	if (f == NULL)
		return 1;
	snprintf(want, sizeof(want), "policyd-spf[%ld]: a#012b#015c#001d\te\n", (long)getpid());
	is_str(fgets(got, sizeof(got), f), want, "ident is the base name; control bytes as #ooo");
	ok(fgets(got, sizeof(got), f) != NULL, "long message logged");
	n = strlen(got);
	ok(n > 4 && got[n - 1] == '\n' && strncmp(got + n - 4, "...", 3) == 0,
	   "long message cut, ends in ..., one line");
	ok(n < 4200, "bounded to the format buffer");
	ok(fgets(got, sizeof(got), f) == NULL, "nothing else written");
	fclose(f);
	unlink(path);
	close(fd);
	return tap_done();
}
