# mk/suite.mk - build rules of the suite harness: the libspf2 second
# opinion (t/spf2/spf2check.c, linked with Debian's libspf2, never part of
# lib/) and the fuzz regression drivers (every t/fuzz/fuzz_*.c fed files
# by t/fuzz/driver.c, built with the normal compiler; under `make asan`
# with the sanitizers).  `make fuzz` (t/fuzz/run.sh) builds the libFuzzer
# versions itself with clang.

SPF2CHECK  := $(B)/tools/spf2check
FUZZ_SRC   := $(sort $(wildcard t/fuzz/fuzz_*.c))
FUZZ_REGRESS := $(FUZZ_SRC:t/fuzz/%.c=$(B)/fuzz-regress/%)

all: $(SPF2CHECK) $(FUZZ_REGRESS)

$(SPF2CHECK): t/spf2/spf2check.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) -O2 -g $(WARN) -o $@ $< -lspf2

$(B)/fuzz-regress/%: t/fuzz/%.c t/fuzz/driver.c $(B)/libpolicyd.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -It/fuzz -include t/fuzz/fuzz.h -o $@ $< t/fuzz/driver.c $(B)/libpolicyd.a $(LDLIBS)
