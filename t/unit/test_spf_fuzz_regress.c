/*
 * test_spf_fuzz_regress - replays the kept fuzz inputs (regressions and
 * seeds) of fuzz_record and fuzz_macro through the same target code, so
 * every crash once found stays fixed in `make check` and under ASan.
 * Run from the top of the source tree (prove does).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#define LLVMFuzzerTestOneInput fuzz_record_one
#include "../fuzz/fuzz_record.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_macro_one
#include "../fuzz/fuzz_macro.c"
#undef LLVMFuzzerTestOneInput

#include "tap.h"

static int replay(const char *dir, int (*fn)(const uint8_t *, size_t))
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		ok(0, dir);
		return 0;
	}
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (f == NULL)
			continue;
		static uint8_t buf[1 << 20];
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		fn(buf, len);
		n++;
	}
	closedir(d);
	return n;
}

int main(void)
{
	static const struct {
		const char *dir;
		int (*fn)(const uint8_t *, size_t);
	} sets[] = {
		{ "t/fuzz/corpus/fuzz_record", fuzz_record_one },
		{ "t/fuzz/regress/fuzz_record", fuzz_record_one },
		{ "t/fuzz/corpus/fuzz_macro", fuzz_macro_one },
		{ "t/fuzz/regress/fuzz_macro", fuzz_macro_one },
	};
	for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
		int n = replay(sets[k].dir, sets[k].fn);
		ok(n > 0, sets[k].dir);
	}
	return tap_done();
}
