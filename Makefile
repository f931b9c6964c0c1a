# policyd-spf - see README.  `make` builds build/policyd-spf; `make check`
# installs what the tests need (as root, with apt-get), builds, and runs
# every test through prove, once more under ASan+UBSan.

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
CONFDIR  ?= $(SYSCONFDIR)/postfix-policyd-spf-python
DESTDIR  ?=

CC       ?= cc
PKGS      = libevent libcares inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CSTD     = -std=c11 -D_GNU_SOURCE
OPT      ?= -O2 -g
CFLAGS   ?=
ALL_CFLAGS = $(CSTD) $(OPT) $(WARN) $(PKG_CFLAGS) -Ilib $(CFLAGS)
LDLIBS   = $(PKG_LIBS)

SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

LIB_SRC  := $(sort $(wildcard lib/*.c))
BIN_SRC  := $(sort $(wildcard policyd/*.c))
UNIT_SRC := $(sort $(wildcard t/unit/*.c))
TOOL_SRC := $(sort $(wildcard t/tools/*.c))

B ?= build
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
BIN_OBJ  := $(BIN_SRC:%.c=$(B)/%.o)
UNIT_BIN := $(UNIT_SRC:t/unit/%.c=$(B)/t/%)
TOOL_BIN := $(TOOL_SRC:t/tools/%.c=$(B)/tools/%)

.PHONY: all check test deps deps-build asan install uninstall clean run fuzz bench
all: $(B)/policyd-spf $(UNIT_BIN) $(TOOL_BIN)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libpolicyd.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/policyd-spf: $(BIN_OBJ) $(B)/libpolicyd.a
	$(CC) $(ALL_CFLAGS) -o $@ $(BIN_OBJ) $(B)/libpolicyd.a $(LDLIBS)

$(B)/t/%: t/unit/%.c $(B)/libpolicyd.a t/unit/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -It/unit -o $@ $< $(B)/libpolicyd.a $(LDLIBS)

# unit tests of a daemon module link its object too
$(B)/t/test_spread: t/unit/test_spread.c $(B)/policyd/spread.o t/unit/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -It/unit -Ipolicyd -o $@ $< $(B)/policyd/spread.o $(LDLIBS)

$(B)/tools/%: t/tools/%.c $(B)/libpolicyd.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libpolicyd.a $(LDLIBS)

-include $(LIB_OBJ:.o=.d) $(BIN_OBJ:.o=.d)
# Fragments of the test, fuzz and bench work: one file each, so they stay apart.
-include $(sort $(wildcard mk/*.mk))

deps-build:
	@sh scripts/deps.sh build

deps:
	@sh scripts/deps.sh build test

# The sanitizer build lives in its own tree so both can coexist.
asan:
	$(MAKE) B=build-asan OPT="$(SAN_FLAGS)" all

TESTS ?= $(sort $(wildcard t/*.t))
# Under ASan: everything that runs our code, except the end-to-end run
# (Postfix's own timeouts do not allow for the slowdown) and the libspf2
# and pyspf comparisons (they run our engine on the same suites as
# t/spf-suite.t, which does run under ASan).
ASAN_SKIP = $(wildcard t/e2e-*.t t/spf-libspf2.t t/engine-suite-pyspf.t)

check: deps
	$(MAKE) all
	$(MAKE) asan
	PSPF_BUILD=build prove -f $(TESTS) build/t/*
	PSPF_BUILD=build-asan PSPF_ASAN=1 \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  prove -f $(filter-out $(ASAN_SKIP),$(TESTS)) build-asan/t/*

test: all
	PSPF_BUILD=build prove -f $(TESTS) build/t/*

run: deps-build
	$(MAKE) all
	exec build/policyd-spf --foreground --listen inet:127.0.0.1:10023 etc/policyd-spf.conf

install: $(B)/policyd-spf
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(CONFDIR)
	install -m 0755 $(B)/policyd-spf $(DESTDIR)$(BINDIR)/policyd-spf
	install -m 0644 man/policyd-spf.8 $(DESTDIR)$(MANDIR)/man8/policyd-spf.8
	install -m 0644 man/policyd-spf.conf.5 $(DESTDIR)$(MANDIR)/man5/policyd-spf.conf.5
	@if [ -e $(DESTDIR)$(CONFDIR)/policyd-spf.conf ]; then \
	  echo "keeping existing $(DESTDIR)$(CONFDIR)/policyd-spf.conf"; \
	else install -m 0644 etc/policyd-spf.conf $(DESTDIR)$(CONFDIR)/policyd-spf.conf; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/policyd-spf $(DESTDIR)$(MANDIR)/man8/policyd-spf.8 \
	      $(DESTDIR)$(MANDIR)/man5/policyd-spf.conf.5
	@if [ -e $(DESTDIR)$(CONFDIR)/policyd-spf.conf ] && cmp -s etc/policyd-spf.conf $(DESTDIR)$(CONFDIR)/policyd-spf.conf; then \
	  rm -f $(DESTDIR)$(CONFDIR)/policyd-spf.conf; rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true; \
	else echo "leaving $(DESTDIR)$(CONFDIR)/policyd-spf.conf (changed or absent)"; fi

fuzz:
	@sh t/fuzz/run.sh

bench:
	@sh t/bench/run.sh

clean:
	rm -rf build build-asan build-fuzz build-cares-*
