/*
 * test_log - the stderr sink: ident from argv[0]'s base name, one line per
 * message, control bytes escaped as rsyslog does (#ooo), long messages cut;
 * the one-pass formatter gives what vsnprintf + escaping gave, around the
 * cut too; batching holds lines until log_flush() and flushes a full batch.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

/* The reference: format into 4096 bytes, cut to 4092 + "...", escape up to the NUL. */
static void __attribute__((format(printf, 2, 3)))
ref_line(char *out, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;
	char *o;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((size_t)n >= sizeof(buf))
		memcpy(buf + sizeof(buf) - 4, "...", 4);
	o = out + sprintf(out, "policyd-spf[%ld]: ", (long)getpid());
	for (const unsigned char *s = (const unsigned char *)buf; *s != '\0'; s++) {
		if ((*s < 0x20 && *s != '\t') || *s == 0x7F)
			o += sprintf(o, "#%03o", *s);
		else
			*o++ = (char)*s;
	}
	strcpy(o, "\n");
}

static char *
slurp(int fd, size_t *len)
{
	static char buf[4 << 20];
	ssize_t n;

	*len = 0;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf + *len, sizeof(buf) - 1 - *len)) > 0)
		*len += (size_t)n;
	buf[*len] = '\0';
	return buf;
}

static int pending_calls;

static void
pending(void *arg)
{
	(void)arg;
	pending_calls++;
}

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

	/* the one-pass formatter against vsnprintf + escape, around the cut */
	{
		static char want_all[1 << 21];
		char *w = want_all, *s, *o;
		size_t len, bad = 0;
		unsigned seed = 7;
		static const size_t sizes[] = { 0, 1, 7, 8, 9, 250, 4085, 4086, 4087, 4088, 4089,
						4090, 4091, 4092, 4093, 4094, 4095, 4096, 4097, 5000 };

		ftruncate(fd, 0);
		lseek(fd, 0, SEEK_SET);
		dup2(fd, STDERR_FILENO);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			for (int round = 0; round < 8; round++) {
				char str[6000];

				for (size_t k = 0; k < sizes[i]; k++) {
					seed = seed * 1103515245u + 12345u;
					/* mostly printable; control bytes, TAB, DEL, 8-bit now and then */
					str[k] = (char)(round == 0 ? 'a' + k % 26 :
						       (seed >> 16) % 16 == 0 ? (seed >> 8) % 0x20 + 1 :
						       (seed >> 16) % 16 == 1 ? 0x7F :
						       (seed >> 16) % 16 == 2 ? 0x80 + (seed >> 9) % 0x80 :
						       0x20 + (seed >> 10) % 0x5F);
				}
				str[sizes[i]] = '\0';
				log_info("%s", str);
				ref_line(w, "%s", str); w += strlen(w);
				log_info("Q%sQ %d %u %ld %lu %zu %c %% %.*s|%.3s", str, -42, 42u, -7L, 7UL,
					 (size_t)99, 'z', 5, str, "abcdef");
				ref_line(w, "Q%sQ %d %u %ld %lu %zu %c %% %.*s|%.3s", str, -42, 42u, -7L,
					 7UL, (size_t)99, 'z', 5, str, "abcdef");
				w += strlen(w);
				/* conversions not done in one pass: the vsnprintf fallback */
				log_info("%o %5s %s", 8, "ab", str);
				ref_line(w, "%o %5s %s", 8, "ab", str); w += strlen(w);
			}
		}
		log_info("%d %ld", -2147483647 - 1, -9223372036854775807L - 1);
		ref_line(w, "%d %ld", -2147483647 - 1, -9223372036854775807L - 1); w += strlen(w);
		log_info("nul %c here", 0);
		ref_line(w, "nul %c here", 0); w += strlen(w);
		dup2(saved, STDERR_FILENO);
		s = slurp(fd, &len);
		ok(len == (size_t)(w - want_all) && memcmp(s, want_all, len) == 0,
		   "one pass: the same bytes as vsnprintf and escaping");
		for (o = want_all; bad == 0 && o < w && (size_t)(o - want_all) < len; o++)
			if (*o != s[o - want_all])
				bad = (size_t)(o - want_all) + 1;
		if (bad)
			printf("# first difference at byte %zu\n", bad - 1);
	}

	/* batching */
	{
		size_t len;
		int lines = 0;

		ftruncate(fd, 0);
		lseek(fd, 0, SEEK_SET);
		dup2(fd, STDERR_FILENO);
		log_batch(pending, NULL);
		log_info("one");
		log_info("two");
		slurp(fd, &len);
		ok(len == 0 && pending_calls == 1, "batched: nothing written, pending() once");
		log_flush();
		slurp(fd, &len);
		snprintf(want, sizeof(want), "policyd-spf[%ld]: one\npolicyd-spf[%ld]: two\n",
			 (long)getpid(), (long)getpid());
		is_str(slurp(fd, &len), want, "log_flush writes the batch");
		log_info("three");
		ok(pending_calls == 2, "pending() again after a flush");
		for (int i = 0; i < 1000; i++)
			log_info("%s", big);
		slurp(fd, &len);
		ok(len > 0 && len < 1000 * 4200, "a full batch is written out before the next line");
		log_batch(NULL, NULL);
		for (char *p = slurp(fd, &len); (p = strchr(p, '\n')) != NULL; p++)
			lines++;
		is_int(lines, 2 + 1 + 1000, "log_batch(NULL) writes the rest; every line once");
		log_info("four");
		for (char *p = slurp(fd, &len), *q = p; (q = strstr(q, "four\n")) != NULL; q++)
			lines = -1;
		ok(lines == -1, "unbatched again: written at once");
		dup2(saved, STDERR_FILENO);
	}
	close(saved);
	unlink(path);
	close(fd);
	return tap_done();
}
