# SPDX-License-Identifier: MIT
# coi build. 'make' is the dev build (warnings are errors); 'make asan' the sanitizer build;
# 'make check' runs the unit tests; scripts/check runs every test (what CI runs).
#
# Sources are found by wildcard: a new src/<module>/<file>.c, tests/unit/test-<name>.c or
# tests/fuzz/fuzz-<name>.c needs no edit here.

BUILD	?= dev
O	:= build/$(BUILD)
CC	?= cc
PREFIX	?= /usr/local
DESTDIR	?=

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)

PKGS	:= libcurl jansson libssl libcrypto libnftables libseccomp libmnl libevent libevent_openssl yaml-0.1 \
	   ldns libunbound
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# CFLAGS/LDFLAGS are the user's (default -O2 -g); the project's own flags live in COI_*.
CFLAGS	?= -O2 -g
COI_CFLAGS := -std=gnu17 -D_GNU_SOURCE -MMD -MP -Isrc -fstack-protector-strong -fPIE \
	   -DCOI_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
	   -Wimplicit-fallthrough -Wpointer-arith -Wcast-align -Wundef -Wno-unused-parameter
COI_LDFLAGS := -pie -Wl,-z,relro,-z,now
LDLIBS	+= $(PKG_LIBS) -lhttp_parser -lm

ifeq ($(BUILD),dev)
COI_CFLAGS += $(WARN) -Werror -D_FORTIFY_SOURCE=2
endif
ifeq ($(BUILD),asan)
COI_CFLAGS += $(WARN) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
COI_LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(BUILD),fuzz)
CC	:= clang
COI_CFLAGS += -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
endif
ifeq ($(BUILD),release)
COI_CFLAGS += $(WARN) -D_FORTIFY_SOURCE=2
endif

LIB_SRCS  := $(sort $(wildcard src/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(O)/%.o) $(O)/gen/builtin-rules.o
RULE_FILES := $(sort $(wildcard rules/gtfobins/* rules/sigma/*.yml))
UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c)) tests/fake-incusd/fake-incusd.c
TOOL_BINS := $(patsubst %.c,$(O)/tools/%,$(notdir $(TOOL_SRCS)))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))

.PHONY: FORCE all dev asan release check check-asan unit tools fuzz format format-check lint \
	install uninstall clean e2e test bench docs deb
.DEFAULT_GOAL := all
.SECONDARY:

# What 'make install' ships besides the binary, generated from the code (verb table, key table).
EXTRAS	:= $(O)/coi.1 $(O)/completion/coi.bash $(O)/completion/_coi $(O)/completion/coi.fish \
	   $(O)/config.toml.example

all: $(O)/coi $(UNIT_BINS) $(TOOL_BINS) $(EXTRAS)

dev:
	$(MAKE) BUILD=dev all
asan:
	$(MAKE) BUILD=asan all
release:
	$(MAKE) BUILD=release all

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(COI_CFLAGS) $(CFLAGS) -c -o $@ $<

# The version is compiled into cmd.o: rebuild it when `git describe` says something new (a
# commit, a dirty tree), or an installed coi would report the version of an older build.
$(O)/version.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
$(O)/src/cmd/cmd.o: $(O)/version.stamp
FORCE:

# Files embedded with .incbin (the compiler's dependency output does not list them).
$(O)/src/image/recipes.o: src/image/base-debootstrap.sh src/image/build.sh src/image/dummy

# coi's own detection rules (rules/), compiled in: the monitor runs what it was built with.
$(O)/gen/builtin-rules.c: scripts/embed-rules $(RULE_FILES)
	@mkdir -p $(@D)
	$(Q)scripts/embed-rules $@ $(RULE_FILES)
$(O)/gen/builtin-rules.o: $(O)/gen/builtin-rules.c
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(COI_CFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/libcoi.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(O)/coi: $(O)/src/main.o $(O)/libcoi.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(COI_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(O)/libcoi.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(COI_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tools/%: $(O)/tests/tools/%.o $(O)/libcoi.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(COI_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The fake Incus daemon lives with its cases in tests/fake-incusd/.
$(O)/tools/fake-incusd: $(O)/tests/fake-incusd/fake-incusd.o $(O)/libcoi.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(COI_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests print TAP; prove runs them. COI_BUILD tells tests where the binaries are.
check: all
	COI_BUILD=$(CURDIR)/$(O) prove -f $(UNIT_BINS) $(wildcard tests/unit/*.t)

check-asan:
	$(MAKE) BUILD=asan check

# End-to-end tests against a real incusd (scripts/check starts it).
e2e: all
	COI_BUILD=$(CURDIR)/$(O) prove -f $(sort $(wildcard tests/e2e/*.t))

# libFuzzer targets, built with clang. FUZZ_SECONDS bounds each run.
FUZZ_SECONDS ?= 30
fuzz:
	$(MAKE) BUILD=fuzz build/fuzz/libcoi.a
	set -e; for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
	  clang -std=gnu17 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
	    -o build/fuzz/$$n $$f build/fuzz/libcoi.a $(LDLIBS); \
	  mkdir -p build/fuzz/corpus-$$n; \
	  build/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=0 \
	    -artifact_prefix=build/fuzz/ $$( [ -f tests/fuzz/$$n.dict ] && echo -dict=tests/fuzz/$$n.dict ) \
	    build/fuzz/corpus-$$n \
	    $$( [ -d tests/fuzz/corpus/$$n ] && echo tests/fuzz/corpus/$$n ); done

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

# scripts/check-layers: includes follow the layer table (docs/development.md), no new circles.
# cppcheck 2.10 does not model __attribute__((cleanup)) (every _cleanup_ variable is a "leak";
# LeakSanitizer in `make BUILD=asan check` covers leaks), the FIELD() offset casts of the key table,
# the linker-provided bounds of the embedded recipes, jansson's foreach macros or the NULL that
# ends a variadic list (a pointer in glibc): those checks are off, everything else fails the build.
LINT_SUPPRESS = missingIncludeSystem memleak leakReturnValNotUsed ctuuninitvar legacyUninitvar \
  invalidPointerCast comparePointers unknownMacro varFuncNullUB
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  $(addprefix --suppress=,$(LINT_SUPPRESS)) -D_GNU_SOURCE -Isrc src
	scripts/check-layers

# The man page: man/coi.1.in with the verbs and configuration keys filled in from the code.
$(O)/coi.1: man/coi.1.in $(O)/tools/gen-man
	$(Q)$(O)/tools/gen-man $< > $@.tmp && mv $@.tmp $@
$(O)/completion/coi.bash: $(O)/coi
	@mkdir -p $(@D)
	$(Q)$(O)/coi completion bash > $@
$(O)/completion/_coi: $(O)/coi
	@mkdir -p $(@D)
	$(Q)$(O)/coi completion zsh > $@
$(O)/completion/coi.fish: $(O)/coi
	@mkdir -p $(@D)
	$(Q)$(O)/coi completion fish > $@
$(O)/config.toml.example: $(O)/tools/gen-config-doc
	$(Q)$(O)/tools/gen-config-doc toml > $@.tmp && mv $@.tmp $@

# docs/configuration.md is generated from the key table; tests/unit/config-doc.t checks it.
docs: $(O)/tools/gen-config-doc
	$(O)/tools/gen-config-doc markdown > docs/configuration.md

BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/coi
DATADIR	?= $(PREFIX)/share/coi
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(if $(filter /usr,$(PREFIX)),/usr/share/zsh/vendor-completions,$(PREFIX)/share/zsh/site-functions)
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
DOCS	:= $(filter-out docs/development.md,$(wildcard docs/*.md))

install: $(O)/coi $(EXTRAS)
	install -D -m 0755 $(O)/coi $(DESTDIR)$(BINDIR)/coi
	install -D -m 0644 $(O)/coi.1 $(DESTDIR)$(MANDIR)/man1/coi.1
	install -D -m 0644 $(O)/completion/coi.bash $(DESTDIR)$(BASHCOMPDIR)/coi
	install -D -m 0644 $(O)/completion/_coi $(DESTDIR)$(ZSHCOMPDIR)/_coi
	install -D -m 0644 $(O)/completion/coi.fish $(DESTDIR)$(FISHCOMPDIR)/coi.fish
	install -D -m 0644 $(O)/config.toml.example $(DESTDIR)$(DOCDIR)/config.toml.example
	install -d $(DESTDIR)$(DOCDIR)
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(DATADIR)/rules/gtfobins $(DESTDIR)$(DATADIR)/rules/sigma
	install -m 0644 rules/README.md $(DESTDIR)$(DATADIR)/rules/
	install -m 0644 $(filter rules/gtfobins/%,$(RULE_FILES)) $(DESTDIR)$(DATADIR)/rules/gtfobins/
	install -m 0644 $(filter rules/sigma/%,$(RULE_FILES)) $(DESTDIR)$(DATADIR)/rules/sigma/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/coi $(DESTDIR)$(MANDIR)/man1/coi.1 $(DESTDIR)$(BASHCOMPDIR)/coi \
	  $(DESTDIR)$(ZSHCOMPDIR)/_coi $(DESTDIR)$(FISHCOMPDIR)/coi.fish
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)

# A Debian package of a release build: build/coi_VERSION_ARCH.deb (scripts/mkdeb).
deb:
	scripts/mkdeb

bench: all
	COI_BUILD=$(CURDIR)/$(O) bench/run

clean:
	rm -rf build

-include $(shell find build -name '*.d' -type f 2>/dev/null)
