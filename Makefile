# libsynth: a boring Makefile. `make V=1` shows full commands.
#   make             library (static + shared), the synth CLI, libsynth.pc
#   make test        all tests (unit, golden, cfn-lint, spec, valgrind)
#   make SAN=1 test  the same, built with AddressSanitizer + UBSan
#   make bench       benchmarks (medians; not timed tests)
#   make install PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS    := jansson libzip libcrypto zlib
AWS_PKGS := libcurl expat

STD     := -std=c11 -D_DEFAULT_SOURCE
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
OPT     ?= -O2 -g
ifeq ($(SAN),1)
BUILD   ?= build-san
OPT     := -O1 -g -fno-omit-frame-pointer
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
else
BUILD   ?= build
SANFLAGS :=
endif

# What libsynth itself links: libzip is not among them, it is loaded
# (dlopen) the first time a zip must be built (lib/core/asset.c), from the
# file found here: its directory and its soname.
LIB_PKGS := jansson libcrypto
LIBZIP_DIR := $(shell pkg-config --variable=libdir libzip)
LIBZIP_SONAME := $(shell objdump -p $(LIBZIP_DIR)/libzip.so 2>/dev/null | awk '/SONAME/ {print $$2}')
LIBZIP_PATH := $(if $(LIBZIP_SONAME),$(if $(LIBZIP_DIR),$(LIBZIP_DIR)/)$(LIBZIP_SONAME),libzip.so)

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(AWS_PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
LIB_LIBS   := $(shell pkg-config --libs $(LIB_PKGS))
# libcurl's header only: lib/aws/http.c loads the library with dlopen()
# when the first HTTP client is made, so a `synth` that makes no AWS call
# never loads it and its two dozen dependencies (half the CLI's start-up).
# The CLI links --as-needed: a library none of its objects calls is not
# loaded either.
AWS_LIBS   := $(shell pkg-config --libs expat) -ldl
CFLAGS_ALL := $(STD) $(WARN) $(OPT) $(SANFLAGS) -fPIC -fvisibility=hidden -fno-semantic-interposition \
              -Iinclude $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Sources are picked up by folder; each folder is a layer (ARCHITECTURE.md):
#   lib/util     helpers every layer uses
#   lib/core     the backend model, container, assets, layout, emission
#   constructs   construct factories, written against the public API only
#   lib/aws      the AWS client (HTTP, SigV4, credentials, S3, SSM)
#   lib/deploy   the deployer, the sandbox watcher, the client config
#   cli          the synth command
LIB_SRC := $(sort $(wildcard lib/util/*.c lib/core/*.c constructs/*.c constructs/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
# The AWS client and the deployer are a library of their own, linked by
# the CLI: a backend program never loads libcurl and its many dependencies
# (they tripled the hello sample's synth time), nor the client config.
AWS_SRC := $(sort $(wildcard lib/aws/*.c lib/deploy/*.c))
AWS_OBJ := $(AWS_SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC := $(sort $(wildcard cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
SOVER   := 0
ABS     := $(abspath .)
ABSB    := $(abspath $(BUILD))

all: $(BUILD)/libsynth.a $(BUILD)/libsynth.so $(BUILD)/libsynth-aws.a $(BUILD)/synth \
     $(BUILD)/libsynth.pc $(BUILD)/libsynth-uninstalled.pc $(BUILD)/cfn-spec.jsonl

# The specification the CLI checks templates against, uncompressed: it is
# mapped and searched, not read (a synth pays for the types it uses only).
$(BUILD)/cfn-spec.jsonl: spec/cfn-spec.jsonl.gz
	@mkdir -p $(BUILD)
	$(Q)gzip -dc $< > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/lib/core/asset.o: CFLAGS_ALL += -DSYNTH_LIBZIP_PATH='"$(LIBZIP_PATH)"'

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

# Files compiled into the library as C arrays by scripts/embed.sh (the
# resolvers' JavaScript, the secret fetcher's Python): FILE becomes
# $(BUILD)/gen/FILE.c, defining synth__embed_<path>[] and its _len.
EMBED_SRC := $(sort $(wildcard constructs/*/js/*.mjs constructs/*/*.py))
EMBED_GEN := $(EMBED_SRC:%=$(BUILD)/gen/%.c)
LIB_SRC += $(EMBED_GEN)
LIB_OBJ += $(EMBED_GEN:%.c=$(BUILD)/obj/%.o)
.SECONDARY: $(EMBED_GEN)
$(BUILD)/gen/%.c: % scripts/embed.sh
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  EMBED   $<")
	$(Q)sh scripts/embed.sh $< > $@.tmp && mv $@.tmp $@

$(BUILD)/libsynth.a: $(LIB_OBJ) Makefile
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(BUILD)/libsynth-aws.a: $(AWS_OBJ) Makefile
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(BUILD)/libsynth.so: $(LIB_OBJ) Makefile
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,libsynth.so.$(SOVER) $(LDFLAGS_ALL) -o $@.$(SOVER) $(filter %.o,$^) $(LIB_LIBS)
	$(Q)ln -sf libsynth.so.$(SOVER) $@

$(BUILD)/synth: $(CLI_OBJ) $(BUILD)/libsynth-aws.a $(BUILD)/libsynth.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -Wl,--as-needed -o $@ $(CLI_OBJ) $(BUILD)/libsynth-aws.a $(BUILD)/libsynth.a \
	  $(AWS_LIBS) $(PKG_LIBS) -lpthread

# How a backend program links (libsynth.pc): libsynth.a, and jansson and
# libcrypto from their static archives where the system has them (only
# SHA-256 is taken from libcrypto), else their shared libraries. A backend
# then loads libc alone: no relocation of libsynth.so, libjansson and
# libcrypto at each run (about a third of a small backend's time, see
# ARCHITECTURE.md, "Linking"). -L names the directory whose libsynth.so
# (rebuilt and installed with libsynth.a) the CLI stamps its build cache
# with.
static_or_l = $(or $(wildcard $(shell pkg-config --variable=libdir $(1))/$(2).a),$(shell pkg-config --libs $(1)))
BACKEND_LIBS := $(call static_or_l,jansson,libjansson) $(call static_or_l,libcrypto,libcrypto) -ldl -lpthread

# The installed pkg-config file (written again by `make install`, so it
# always names the PREFIX being installed to).
PC_LINES = 'prefix=$(PREFIX)' 'includedir=$${prefix}/include' \
	  'libdir=$${prefix}/lib' '' 'Name: libsynth' \
	  'Description: serverless backends in C, synthesized to CloudFormation' \
	  'Version: 0.1.0' 'Requires.private: jansson libcrypto' \
	  'Cflags: -I$${includedir}' 'Libs: -L$${libdir} $${libdir}/libsynth.a $(BACKEND_LIBS)'
$(BUILD)/libsynth.pc: Makefile
	@mkdir -p $(BUILD)
	$(Q)printf '%s\n' $(PC_LINES) > $@

# pkg-config prefers NAME-uninstalled.pc on its path: this one points at
# the build tree, so the CLI can build backends before `make install`.
$(BUILD)/libsynth-uninstalled.pc: Makefile
	@mkdir -p $(BUILD)
	$(Q)printf '%s\n' 'Name: libsynth' 'Description: libsynth (build tree)' \
	  'Version: 0.1.0' 'Requires.private: jansson libcrypto' \
	  'Cflags: -I$(ABS)/include $(SANFLAGS)' \
	  'Libs: -L$(ABSB) $(ABSB)/libsynth.a $(BACKEND_LIBS) $(SANFLAGS)' > $@

TEST_INC := -Ilib/util -Ilib/core -Ilib/aws -Ilib/deploy -Iconstructs/data

# --- tests -------------------------------------------------------------
TEST_UNITS := $(patsubst test/unit/%.c,$(BUILD)/test/%,$(wildcard test/unit/test_*.c))

$(BUILD)/test/%: test/unit/%.c test/unit/check.h $(BUILD)/libsynth.a $(BUILD)/libsynth-aws.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(STD) $(WARN) $(OPT) $(SANFLAGS) -Iinclude $(TEST_INC) $(PKG_CFLAGS) -o $@ $< \
	  $(BUILD)/libsynth-aws.a $(BUILD)/libsynth.a $(AWS_LIBS) $(PKG_LIBS) -lpthread

test-bin: all $(TEST_UNITS)

test: test-bin
	$(Q)BUILD=$(BUILD) SAN=$(SAN) bash test/run.sh

bench: all
	$(Q)BUILD=$(BUILD) bash bench/run.sh
	$(Q)BUILD=$(BUILD) bash bench/publish.sh
	$(Q)BUILD=$(BUILD) bash bench/data.sh
	$(Q)BUILD=$(BUILD) bash bench/deploy.sh
	$(Q)BUILD=$(BUILD) bash bench/python.sh
	$(Q)BUILD=$(BUILD) bash bench/karaoke.sh
	$(Q)BUILD=$(BUILD) bash bench/cli.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/include/synth $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/libsynth
	install -m 644 $(BUILD)/cfn-spec.jsonl $(DESTDIR)$(PREFIX)/share/libsynth/
	install -m 644 include/synth.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/synth/*.h $(DESTDIR)$(PREFIX)/include/synth/
	install -d $(DESTDIR)$(PREFIX)/include/synth/sys
	install -m 644 include/synth/sys/*.h $(DESTDIR)$(PREFIX)/include/synth/sys/
	install -m 644 $(BUILD)/libsynth.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libsynth.so.$(SOVER) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libsynth.so.$(SOVER) $(DESTDIR)$(PREFIX)/lib/libsynth.so
	printf '%s\n' $(PC_LINES) > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libsynth.pc
	install -m 755 $(BUILD)/synth $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-san

# The Lambda runtimes and their dates, from the data cfn-lint ships
# (checked in; test/cli/lint_agree.sh fails when the installed cfn-lint
# would write a different table): run after upgrading cfn-lint.
runtimes:
	$(Q)python3 scripts/gen-runtimes.py lib/core/lambda_runtimes.inc

.PHONY: all test test-bin bench install clean check-layers runtimes
-include $(LIB_OBJ:.o=.d) $(AWS_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# The layers' arrows (ARCHITECTURE.md): includes and calls across a
# forbidden arrow fail (scripts/check-layers.sh; test/cli/layers.sh).
check-layers: all
	$(Q)BUILD=$(BUILD) bash scripts/check-layers.sh
