# Engine fragment: libFuzzer builds of the record and macro targets.
#   make fuzz-engine [FUZZ_SECONDS=60]   run each target for a bounded time
#   make fuzz-engine-regress             replay kept inputs through the fuzz builds
# (make check replays them too, through build/t/test_spf_fuzz_regress.)
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
ENGINE_FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Ilib \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
ENGINE_FUZZ_SRC = lib/spf_record.c lib/spf_macro.c lib/spf_util.c
ENGINE_FUZZ_BIN = build-fuzz/fuzz_record build-fuzz/fuzz_macro

.PHONY: fuzz-engine fuzz-engine-regress

build-fuzz/fuzz_record: t/fuzz/fuzz_record.c $(ENGINE_FUZZ_SRC) lib/spf_record.h lib/spf_macro.h
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(ENGINE_FUZZ_FLAGS) -o $@ t/fuzz/fuzz_record.c $(ENGINE_FUZZ_SRC)

build-fuzz/fuzz_macro: t/fuzz/fuzz_macro.c $(ENGINE_FUZZ_SRC) lib/spf_record.h lib/spf_macro.h
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(ENGINE_FUZZ_FLAGS) -o $@ t/fuzz/fuzz_macro.c $(ENGINE_FUZZ_SRC)

fuzz-engine: $(ENGINE_FUZZ_BIN)
	@for t in fuzz_record fuzz_macro; do \
	  mkdir -p build-fuzz/corpus-$$t && cp t/fuzz/corpus/$$t/* build-fuzz/corpus-$$t/ && \
	  build-fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build-fuzz/$$t- \
	    build-fuzz/corpus-$$t t/fuzz/regress/$$t || exit 1; \
	done

fuzz-engine-regress: $(ENGINE_FUZZ_BIN)
	@for t in fuzz_record fuzz_macro; do \
	  build-fuzz/$$t -runs=0 t/fuzz/corpus/$$t t/fuzz/regress/$$t || exit 1; \
	done
