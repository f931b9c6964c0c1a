/*
 * driver - runs a libFuzzer target without libFuzzer: every file named on
 * the command line (directories: every regular file in them, sorted) is
 * read and fed once to LLVMFuzzerTestOneInput.  t/fuzz-regress.t builds
 * each target with it so that corpus and crash inputs stay regression
 * tests in make check, also under ASan+UBSan.
 *
 * Before each input it prints "run PATH" on stdout (flushed), so when an
 * input crashes the target the last line names it.  The empty input is
 * always run first.  Exit 0 when every input returned; 2 on usage or I/O
 * errors (a file that cannot be read is a failure, not a skip).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Larger inputs than libFuzzer's default max_len are never kept. */
#define DRIVER_MAX_INPUT (16u * 1024u * 1024u)

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
run_file(const char *path)
{
	FILE *f;
	unsigned char *buf;
	size_t len = 0, cap = 4096;
	size_t n;

	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(cap);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			unsigned char *nb;

			if (cap >= DRIVER_MAX_INPUT) {
				fprintf(stderr, "driver: %s: larger than %u bytes\n",
				    path, DRIVER_MAX_INPUT);
				free(buf);
				fclose(f);
				return -1;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "driver: %s: read error\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	printf("run %s %zu\n", path, len);
	fflush(stdout);
	/* An exact-size copy, so ASan sees reads past the input's end. */
	{
		unsigned char *exact = malloc(len ? len : 1);

		if (exact == NULL) {
			free(buf);
			return -1;
		}
		memcpy(exact, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "driver: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		size_t plen;
		char *p;
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		plen = strlen(dir) + strlen(e->d_name) + 2;
		p = malloc(plen);
		if (p == NULL) {
			rc = -1;
			break;
		}
		snprintf(p, plen, "%s/%s", dir, e->d_name);
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL) {
				free(p);
				rc = -1;
				break;
			}
			names = nn;
		}
		names[n++] = p;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		if (rc == 0 && run_file(names[i]) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	static const unsigned char empty[1];
	int i, rc = 0;
	struct stat st;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	printf("run (empty) 0\n");
	fflush(stdout);
	LLVMFuzzerTestOneInput(empty, 0);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "driver: %s: %s\n", argv[i], strerror(errno));
			rc = 2;
			continue;
		}
		if (S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]))
			rc = 2;
	}
	printf("done\n");
	return rc;
}
