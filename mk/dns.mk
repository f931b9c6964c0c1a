# DNS module extras (owner: dns).
# dnsq drives lib/dns through the libevent glue of the daemon (policyd/loop.c).
$(B)/tools/dnsq: t/tools/dnsq.c $(B)/policyd/loop.o $(B)/libpolicyd.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ipolicyd -o $@ $< $(B)/policyd/loop.o $(B)/libpolicyd.a $(LDLIBS)
