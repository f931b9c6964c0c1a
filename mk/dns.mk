# DNS module extras (owner: dns).
# dnsq drives lib/dns through the libevent glue of the daemon (policyd/loop.c).
$(B)/tools/dnsq: t/tools/dnsq.c $(B)/policyd/loop.o $(B)/libpolicyd.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ipolicyd -o $@ $< $(B)/policyd/loop.o $(B)/libpolicyd.a $(LDLIBS)

# libFuzzer build of the DNS answer parser: make fuzz-dnsmsg FUZZ_SECONDS=60
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Ilib
build-fuzz/fuzz_dnsmsg: t/fuzz/fuzz_dnsmsg.c lib/dnsmsg.c lib/dnsmsg.h lib/dns.h
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@ t/fuzz/fuzz_dnsmsg.c lib/dnsmsg.c

.PHONY: fuzz-dnsmsg
fuzz-dnsmsg: build-fuzz/fuzz_dnsmsg
	@mkdir -p build-fuzz/corpus-dnsmsg
	build-fuzz/fuzz_dnsmsg -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -artifact_prefix=build-fuzz/ build-fuzz/corpus-dnsmsg t/fuzz/corpus/dnsmsg
