# Benchmark tools (t/bench/): the load generator, the do-nothing policy
# server and the DNS delay forwarder.  Not part of `all`: `make bench`
# (t/bench/run.sh) builds them with `make bench-tools`.
BENCH_TOOLS := $(B)/bench/loadgen $(B)/bench/nullpolicy $(B)/bench/dnsdelay

.PHONY: bench-tools
bench-tools: $(BENCH_TOOLS)

$(B)/bench/%: t/bench/%.c t/bench/benchnet.c t/bench/benchnet.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -It/bench -o $@ $< t/bench/benchnet.c $(LDLIBS)
