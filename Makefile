# secmail — plain GNU make. Every cmd/NAME.c becomes bin/NAME; every lib/*.c goes into
# libsecmail.a; every tests/unit/NAME.c becomes a unit-test binary.
# `make check SANITIZE=1` builds into build/san with ASan+UBSan and runs the same suite.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

CC        ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS    ?= -O2 -g
WARN      := -std=c11 -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
             -Wmissing-prototypes -Wformat=2 -Wvla -Werror
HARDEN    := -fstack-protector-strong -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now -Wl,--as-needed
# Every function and datum in a section of its own, unused ones dropped at link time: a
# program carries, relocates and imports from libc only what it calls (a small mime-pack
# spent as long starting up and faulting pages in as working).
GC        := -ffunction-sections -fdata-sections
GC_LD     := -Wl,--gc-sections

# libunistring ships no .pc file on Debian; fall back to plain -l.
SSL_CFLAGS := $(shell $(PKG_CONFIG) --cflags openssl 2>/dev/null)
SSL_LIBS   := $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto)
US_CFLAGS  := $(shell $(PKG_CONFIG) --cflags libunistring 2>/dev/null)
US_LIBS    := $(shell $(PKG_CONFIG) --libs libunistring 2>/dev/null || echo -lunistring)
# The tools use a few functions of libunistring; relocating the whole shared library at every
# start (600 symbol look-ups with -z now) cost more than a small message's own work. Its
# static archive is used where there is one.
US_STATIC  := $(wildcard $(shell $(CC) -print-file-name=libunistring.a))
US_LIBS    := $(or $(US_STATIC),$(US_LIBS))

ifeq ($(SANITIZE),1)
BUILD     ?= build/san
SAN       := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FORTIFY   :=
else
BUILD     ?= build
SAN       :=
FORTIFY   := -D_FORTIFY_SOURCE=2
endif

# OpenSSL matrix. `make check OPENSSL=3.6` (or 3.5): scripts/openssl-build builds that OpenSSL
# from Debian's source package once (cached outside the tree, linked as build/ossl-3.6/openssl),
# secmail is built against it into build/ossl-3.6 (build/ossl-3.6/san with SANITIZE=1) and the
# suite runs with its openssl first on PATH. Every build, the system one too, gets
# $(BUILD)/gen/ossl_features.h: what its OpenSSL can do (HAVE_*), probed by
# scripts/openssl-features before anything compiles.
.DEFAULT_GOAL := all
ifneq ($(OPENSSL),)
ifeq ($(origin BUILD),file)
BUILD      := build/ossl-$(OPENSSL)$(if $(SAN),/san)
endif
OSSL_HOME  := $(CURDIR)/build/ossl-$(OPENSSL)/openssl
SSL_CFLAGS := -I$(OSSL_HOME)/include
# $$ORIGIN first: a copy of the binaries with the libraries in ../openssl/lib runs where the
# cache is out of reach (tests/gateway-mta.bats runs them as another user; ~/.cache may sit
# in a home only its owner can enter).
SSL_LIBS   := -L$(OSSL_HOME)/lib -Wl,-rpath,'$$ORIGIN/../openssl/lib' -Wl,-rpath,$(OSSL_HOME)/lib \
	-lssl -lcrypto
export PATH := $(OSSL_HOME)/bin:$(PATH)
$(OSSL_HOME)/bin/openssl:
	@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps
	scripts/openssl-build $(OPENSSL) $(OSSL_HOME) >/dev/null
endif
SSL_CFLAGS += -I$(BUILD)/gen
$(BUILD)/gen/ossl_features.mk: scripts/openssl-features scripts/openssl-probe.c $(OSSL_HOME:%=%/bin/openssl)
	$(if $(filter check demo,$(MAKECMDGOALS)),@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps)
	scripts/openssl-features $(BUILD)/gen/ossl_features.h $(CC) $(SSL_CFLAGS) -- $(SSL_LIBS)
	@echo "# $(BUILD)/gen/ossl_features.h is up to date" >$@
ifeq ($(filter clean deps,$(MAKECMDGOALS)),)
include $(BUILD)/gen/ossl_features.mk
endif

ALL_CPPFLAGS = -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(FORTIFY) -DSECMAIL_VERSION='"$(VERSION)"' \
               -Ilib $(SSL_CFLAGS) $(US_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = $(WARN) $(HARDEN) $(GC) $(SAN) $(CFLAGS)
ALL_LDFLAGS  = $(HARDEN_LD) $(GC_LD) $(SAN) $(LDFLAGS)
LIBS         = $(SSL_LIBS) $(US_LIBS)

LIB_SRC  := $(sort $(wildcard lib/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
PROGS    := $(notdir $(CMD_SRC:.c=))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBA     := $(BUILD)/libsecmail.a
BINS     := $(PROGS:%=$(BUILD)/bin/%)
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
TOOLS    := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
DEPS     := $(LIB_OBJ:.o=.d) $(CMD_SRC:%.c=$(BUILD)/%.d) $(UNIT_SRC:%.c=$(BUILD)/%.d) $(TOOL_SRC:%.c=$(BUILD)/%.d)

# b64 does no cryptography: it links neither libssl nor libcrypto.
$(BUILD)/bin/b64: LIBS = $(US_LIBS)

# Per-file ISA flags: the SIMD kernels are compiled for their ISA and chosen at run time.
$(BUILD)/lib/b64_avx2.o: ALL_CFLAGS += -mavx2
$(BUILD)/lib/b64_avx512.o: ALL_CFLAGS += -mavx512f -mavx512bw -mavx512vbmi
# The b64 unit test builds the AVX-512 kernel over SIMDe too; GCC notes the ABI of its 512-bit
# by-value vectors (a pragma does not silence it), harmless inside one test binary.
$(BUILD)/tests/unit/b64_test.o: ALL_CFLAGS += -Wno-psabi

.SECONDARY:
.PHONY: all check check-arm64 demo install uninstall bench fuzz clean deps units
all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/cmd/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

$(BUILD)/unit/%: $(BUILD)/tests/unit/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

# Test drivers (tests/tools/*.c): small programs over lib/ that bats suites call to
# cross-check library pieces against independent implementations.
$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

units: $(UNITS) $(TOOLS)

deps:
	@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps

# The suite: bats files and C unit tests, summarised as "N passed, N failed".
check: deps
	@$(MAKE) --no-print-directory all units check-arm64
	SECMAIL_BIN=$(abspath $(BUILD))/bin SECMAIL_UNIT=$(abspath $(BUILD))/unit \
	  SECMAIL_TOOLS=$(abspath $(BUILD))/tools tests/run

demo: deps
	@$(MAKE) --no-print-directory all
	SECMAIL_BIN=$(abspath $(BUILD))/bin scripts/demo

bench: all
	SECMAIL_BIN=$(abspath $(BUILD))/bin bench/run

# AArch64: the NEON base64 kernel and the portable (word-at-a-time) scanning paths that x86
# builds never compile, cross-compiled statically and run under qemu-user: the codec, scanner
# and canonicaliser unit tests (CPU-time limits scaled for the emulator).
ARM64_CC    ?= aarch64-linux-gnu-gcc
ARM64_RUN   ?= qemu-aarch64
ARM64_BUILD := build/arm64
ARM64_FLAGS  = -O2 $(WARN) -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Ilib -static
ARM64_B64   := lib/b64.c lib/b64_neon.c lib/b64_avx2.c lib/b64_avx512.c
$(ARM64_BUILD)/b64_test: tests/unit/b64_test.c $(ARM64_B64)
$(ARM64_BUILD)/cte_test: tests/unit/cte_test.c lib/cte.c lib/qp.c lib/canon.c lib/err.c lib/io.c $(ARM64_B64)
$(ARM64_BUILD)/canon_test: tests/unit/canon_test.c lib/canon.c lib/err.c lib/io.c
$(ARM64_BUILD)/%:
	@mkdir -p $(@D)
	$(ARM64_CC) $(ARM64_FLAGS) -o $@ $(filter %.c,$^)
check-arm64: $(ARM64_BUILD)/b64_test $(ARM64_BUILD)/cte_test $(ARM64_BUILD)/canon_test
	@for t in $^; do \
	  SECMAIL_TEST_CPU_FACTOR=20 $(ARM64_RUN) $$t >$$t.log 2>&1 || { cat $$t.log; exit 1; }; \
	  echo "check-arm64: $$(basename $$t): $$(grep -c '^ok' $$t.log) passed under $(ARM64_RUN)"; \
	done

# libFuzzer targets (clang). FUZZ_SECONDS bounds each target's run.
FUZZ_SECONDS ?= 30
FUZZ_BUILD := build/fuzz
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -g -O1
$(FUZZ_BUILD)/lib/b64_avx2.o: FUZZ_FLAGS += -mavx2
$(FUZZ_BUILD)/lib/b64_avx512.o: FUZZ_FLAGS += -mavx512f -mavx512bw -mavx512vbmi
$(FUZZ_BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	clang $(ALL_CPPFLAGS) -std=c11 $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<
$(FUZZ_BUILD)/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	clang $(ALL_CPPFLAGS) -std=c11 -fsanitize=fuzzer,address,undefined -g -O1 -o $@ $< $(FUZZ_LIB_OBJ) $(LIBS)
fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
	  n=$$(basename $$f); c=tests/fuzz/corpus/$$n; mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(FUZZ_BUILD)/corpus/$$n $$c >$(FUZZ_BUILD)/$$n.log 2>&1 \
	    || { tail -40 $(FUZZ_BUILD)/$$n.log; exit 1; }; \
	done; echo "fuzz: all targets ran clean"

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	for p in $(PROGS); do \
	  for s in 1 8; do if [ -f man/$$p.$$s ]; then install -m 644 man/$$p.$$s $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; fi; done; \
	  install -m 644 completions/bash/$$p $(DESTDIR)$(BASHCOMPDIR)/$$p; \
	  install -m 644 completions/zsh/_$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p; \
	  install -m 644 completions/fish/$$p.fish $(DESTDIR)$(FISHCOMPDIR)/$$p.fish; \
	done
	for m in $(wildcard man/*.5); do install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/; done

uninstall:
	for p in $(PROGS); do \
	  rm -f $(DESTDIR)$(BINDIR)/$$p $(DESTDIR)$(MANDIR)/man1/$$p.1 $(DESTDIR)$(MANDIR)/man8/$$p.8 $(DESTDIR)$(BASHCOMPDIR)/$$p \
	        $(DESTDIR)$(ZSHCOMPDIR)/_$$p $(DESTDIR)$(FISHCOMPDIR)/$$p.fish; \
	done
	for m in $(notdir $(wildcard man/*.5)); do rm -f $(DESTDIR)$(MANDIR)/man5/$$m; done

clean:
	rm -rf build

-include $(DEPS)
-include $(FUZZ_LIB_OBJ:.o=.d)
