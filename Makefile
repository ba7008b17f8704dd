# espdoctor: why won't my ESP board talk, and then flash it.
#
#   make            build build/espdoctor
#   make demo       build everything and run espdoctor against the virtual board
#   make check      build and run every test (SANITIZE=1: under ASan+UBSan)
#   make bench      timing figures through the virtual board's timing model
#   make faults     the fault matrix: 1,000 flashes through injected faults (mk/faults.mk)
#   make check-valgrind  the end-to-end flash/doctor/info/monitor/bad-input tests under memcheck
#   make conformance-table  write the last run's client rows into tests/sim/README.md
#   make install    PREFIX=/usr/local (PREFIX=$HOME/.local works without root), DESTDIR honoured
#   make install-files  the same copies without building (as a user who cannot write build/)

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
SANITIZE   ?= 0

# Sanitizer builds live in their own tree so objects never mix.
ifeq ($(SANITIZE),1)
O := build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
O := build
SAN_FLAGS :=
endif

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE     := -std=c11 -D_GNU_SOURCE $(WARN) $(SAN_FLAGS) -Iinclude -DESPDOCTOR_VERSION='"$(VERSION)"'
# espsim (tests/sim) shares nothing with espdoctor: no include/ on its path, no src/ in
# its link (tests/e2e/test_sim_independence.c checks both).
SIM_BASE := -std=c11 -D_GNU_SOURCE $(WARN) $(SAN_FLAGS)

PKGS      := libserialport libudev libusb-1.0 zlib libdeflate libmd json-c libacl tinfo
BOARD_PKGS := zlib libmd
SIM_PKGS  := umockdev-1.0 glib-2.0 gobject-2.0 json-c $(BOARD_PKGS)
TEST_PKGS := criterion

# pkg-config is only asked once the deps stamp exists (it may not be installed yet).
pc = $(shell pkg-config $(1) $(2) 2>/dev/null)

LIB_SRC     := $(filter-out src/main.c,$(wildcard src/*.c))
BOARD_SRC   := $(wildcard tests/sim/board/*.c)
ESPSIM_SRC  := $(wildcard tests/sim/*.c)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
E2E_SRC     := $(wildcard tests/e2e/test_*.c)
TOOL_SRC    := $(wildcard tests/tools/*.c)
SUPPORT_SRC := $(wildcard tests/support/*.c)
RUNNER_OBJ  := $(O)/obj/tests/runner/runner_leaks.o

LIB_OBJ     := $(LIB_SRC:%.c=$(O)/obj/%.o)
BOARD_OBJ   := $(BOARD_SRC:%.c=$(O)/obj/%.o)
ESPSIM_OBJ  := $(ESPSIM_SRC:%.c=$(O)/obj/%.o)
SUPPORT_OBJ := $(SUPPORT_SRC:%.c=$(O)/obj/%.o)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
E2E_BIN     := $(E2E_SRC:tests/e2e/%.c=$(O)/tests/%)
TOOL_BIN    := $(TOOL_SRC:tests/tools/%.c=$(O)/%)

DEPS_BUILD := $(O)/.deps-build
DEPS_TEST  := $(O)/.deps-test

.SECONDARY:
.PHONY: stubs regen-rules conformance-table all demo check check-unit check-e2e bench check-valgrind install install-files uninstall clean deps deps-test lint-tests lint-man
all: $(O)/espdoctor $(O)/espdoctor.1 stubs

deps: $(DEPS_BUILD)
deps-test: $(DEPS_TEST)

$(DEPS_BUILD): mk/deps.sh
	@mkdir -p $(O)
	@sh mk/deps.sh build
	@touch $@

# After the build stamp, never beside it: two apt-get runs at once (make -j2 on a machine
# missing packages) fight over apt's lock.
$(DEPS_TEST): mk/deps.sh $(DEPS_BUILD)
	@mkdir -p $(O)
	@sh mk/deps.sh test
	@touch $@

# Objects: the library and the CLI
$(O)/obj/src/%.o: src/%.c | $(DEPS_BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(CFLAGS) $(call pc,--cflags,$(PKGS)) -MMD -MP -c $< -o $@

# Virtual board model: plain C, no GLib, nothing of espdoctor's
$(O)/obj/tests/sim/board/%.o: tests/sim/board/%.c | $(DEPS_BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(SIM_BASE) $(CFLAGS) -Itests/sim $(call pc,--cflags,$(BOARD_PKGS)) -MMD -MP -c $< -o $@

# espsim front end: umockdev testbed, RFC 2217 server
$(O)/obj/tests/sim/%.o: tests/sim/%.c | $(DEPS_TEST)
	@mkdir -p $(dir $@)
	$(CC) $(SIM_BASE) $(CFLAGS) -Itests/sim $(call pc,--cflags,$(SIM_PKGS)) -MMD -MP -c $< -o $@

$(O)/obj/tests/%.o: tests/%.c | $(DEPS_TEST)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(CFLAGS) -Itests -Itests/sim -Itests/support $(call pc,--cflags,$(PKGS) $(TEST_PKGS)) -MMD -MP -c $< -o $@

# Where the installed program finds its flasher stubs (it also looks beside itself, so an
# install to another PREFIX works without a rebuild).
$(O)/obj/src/stub_find.o: BASE += -DESPDOCTOR_DATADIR='"$(PREFIX)/share/espdoctor"'

# The flasher stubs, from the esptool-js npm package into $(O)/share (never committed);
# without npm this says what to run and the ROM loader does the work.
STUB_DIR_BUILT := $(O)/share/espdoctor/stub_flasher
stubs: | $(DEPS_BUILD)
	@sh mk/stubs.sh $(O)

$(O)/libespdoctor.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(O)/libsimboard.a: $(BOARD_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(O)/espdoctor: $(O)/obj/src/main.o $(O)/libespdoctor.a
	$(CC) $(SAN_FLAGS) $(CFLAGS) -o $@ $^ $(call pc,--libs,$(PKGS))

# What went into espsim is written down beside it for the independence test.
$(O)/espsim: $(ESPSIM_OBJ) $(O)/libsimboard.a
	$(CC) $(SAN_FLAGS) $(CFLAGS) -o $@ $^ $(call pc,--libs,$(SIM_PKGS)) -lutil
	@printf '%s\n' $^ $(BOARD_OBJ) > $@.inputs

# The manual page: template + the program's own tables (finding ids, refusals).
$(O)/obj/man/%.o: man/%.c | $(DEPS_BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(CFLAGS) $(call pc,--cflags,$(PKGS)) -MMD -MP -c $< -o $@

$(O)/mkman: $(O)/obj/man/mkman.o $(O)/libespdoctor.a
	$(CC) $(SAN_FLAGS) $(CFLAGS) -o $@ $^ $(call pc,--libs,$(PKGS))

$(O)/espdoctor.1: man/espdoctor.1.in $(O)/mkman Makefile
	$(O)/mkman man/espdoctor.1.in $@ $(VERSION)

# Helper programs for tests and benchmarks (image generator and friends). preflight shares
# the end-to-end tests' headers, which use Criterion's helpers.
$(O)/preflight: $(O)/obj/tests/tools/preflight.o $(O)/libespdoctor.a
	$(CC) $(SAN_FLAGS) $(CFLAGS) -o $@ $^ $(call pc,--libs,$(PKGS) $(TEST_PKGS))

$(O)/%: $(O)/obj/tests/tools/%.o $(O)/libsimboard.a $(O)/libespdoctor.a
	$(CC) $(SAN_FLAGS) $(CFLAGS) -o $@ $^ $(call pc,--libs,$(PKGS))

# Only the unit tests link the board, the test glue (tests/support) and espdoctor together.
$(O)/tests/%: $(O)/obj/tests/unit/%.o $(SUPPORT_OBJ) $(RUNNER_OBJ) $(O)/libsimboard.a $(O)/libespdoctor.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) $(CFLAGS) -o $@ $^ $(call pc,--libs,$(PKGS) $(TEST_PKGS))

$(O)/tests/%: $(O)/obj/tests/e2e/%.o $(RUNNER_OBJ) $(O)/libespdoctor.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) $(CFLAGS) -o $@ $^ $(call pc,--libs,$(PKGS) $(TEST_PKGS))

# ---- tests -------------------------------------------------------------------
# Sanitized binaries run under the umockdev preload, which must come before ASan.
export ASAN_OPTIONS := verify_asan_link_order=0:detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1
# Only Criterion's own argument copy (tests/lsan.supp; its runner's timeout records are
# untracked by tests/runner/runner_leaks.c); every leak of ours still fails.
export LSAN_OPTIONS := suppressions=$(abspath tests/lsan.supp):print_suppressions=0
export ESPDOCTOR_BUILD := $(abspath $(O))

# A skipped test must never pass silently: forbid skips outright.
lint-tests:
	@if grep -rn 'cr_skip' tests; then echo "check: tests must not skip themselves" >&2; exit 1; fi

lint-man: $(O)/espdoctor.1 | $(DEPS_TEST)
	@mandoc -T lint -W warning $(O)/espdoctor.1

# build/preflight first: each way the tests get a second user (root: nobody; an ordinary
# user: itself, refused by modes) is tried, and the suite stops before any test if one
# cannot be had here, naming the tests and why (tests/e2e/e2e_user.h).
# The client rows (test_espsim_clients) leave their results in $(O)/conformance; the
# table in tests/sim/README.md must be exactly what this run produced.
check: $(DEPS_TEST) lint-tests lint-man all $(O)/espsim $(O)/mkman $(TOOL_BIN) $(UNIT_BIN) $(E2E_BIN)
	@$(O)/preflight
	@sh tests/js/setup.sh
	@rm -rf $(O)/conformance
	@sh tests/run.sh $(O) $(UNIT_BIN) $(E2E_BIN); rc=$$?; \
	  sh tests/conformance.sh check $(O) || rc=1; exit $$rc

conformance-table:
	@sh tests/conformance.sh update $(O)

# demo and bench build the manual page too: everything `make install` needs, so another
# user can install what root built (make install PREFIX=$$HOME/.local) without writing build/.
demo: $(DEPS_TEST) all $(O)/espsim $(TOOL_BIN)
	@sh tests/demo.sh $(O)

bench: $(DEPS_TEST) all $(O)/espsim $(TOOL_BIN)
	@sh tests/bench.sh $(O)

# The end-to-end flash, doctor, info, monitor and bad-input tests with every espdoctor they
# start under valgrind memcheck: zero errors and zero definite leaks (tests/valgrind.sh).
VALGRIND_BIN := $(filter $(O)/tests/test_flash% $(O)/tests/test_doctor% $(O)/tests/test_info% \
                         $(O)/tests/test_monitor% $(O)/tests/test_bad_input,$(E2E_BIN))
check-valgrind: $(DEPS_TEST) $(O)/espdoctor $(O)/espsim $(TOOL_BIN) $(VALGRIND_BIN)
	@$(O)/preflight
	@sh tests/js/setup.sh
	@sh tests/valgrind.sh $(O) $(VALGRIND_BIN)

# ---- install -----------------------------------------------------------------
# System udev rules cannot go under a user PREFIX: the rules ship as data, and
# `espdoctor udev install` writes /etc/udev/rules.d for the system's serial group.
BINDIR  := $(DESTDIR)$(PREFIX)/bin
DATADIR := $(DESTDIR)$(PREFIX)/share
MANDIR  := $(DATADIR)/man/man1
COMPDIR := $(DATADIR)/bash-completion/completions

define install_files
	install -d $(BINDIR) $(MANDIR) $(DATADIR)/espdoctor $(COMPDIR)
	install -m 0755 $(O)/espdoctor $(BINDIR)/espdoctor
	install -m 0644 $(O)/espdoctor.1 $(MANDIR)/espdoctor.1
	install -m 0644 rules/70-espdoctor.rules $(DATADIR)/espdoctor/70-espdoctor.rules
	install -m 0644 share/espdoctor/espdoctor.schema.json $(DATADIR)/espdoctor/espdoctor.schema.json
	install -m 0644 completion/espdoctor.bash $(COMPDIR)/espdoctor
	@if ls $(STUB_DIR_BUILT)/*.json >/dev/null 2>&1; then \
	  echo "install -d $(DATADIR)/espdoctor/stub_flasher"; \
	  install -d $(DATADIR)/espdoctor/stub_flasher && \
	  echo "install -m 0644 $(STUB_DIR_BUILT)/*.json $(DATADIR)/espdoctor/stub_flasher" && \
	  install -m 0644 $(STUB_DIR_BUILT)/*.json $(DATADIR)/espdoctor/stub_flasher; \
	else echo "install: no flasher stubs in $(STUB_DIR_BUILT) (make fetches them with" \
	  "npm); without them the ROM loader does the work" >&2; fi
endef

install: $(O)/espdoctor $(O)/espdoctor.1
	$(install_files)

# Only copies: never builds, so a user who cannot write the build tree can install what
# another one built (make; then, as that user, make install-files PREFIX=$$HOME/.local).
install-files:
	@for built in $(O)/espdoctor $(O)/espdoctor.1; do test -s $$built || \
	  { echo "install-files: $$built is not built yet; run make first" >&2; exit 1; }; done
	$(install_files)

uninstall:
	rm -f $(BINDIR)/espdoctor $(MANDIR)/espdoctor.1 $(COMPDIR)/espdoctor
	rm -f $(DATADIR)/espdoctor/70-espdoctor.rules $(DATADIR)/espdoctor/espdoctor.schema.json
	rm -f $(DATADIR)/espdoctor/stub_flasher/*.json
	-rmdir $(DATADIR)/espdoctor/stub_flasher 2>/dev/null
	-rmdir $(DATADIR)/espdoctor 2>/dev/null

# Regenerate the shipped rules after a bridge-table change (a test compares them).
regen-rules: $(O)/espdoctor
	$(O)/espdoctor udev show dialout > rules/70-espdoctor.rules

clean:
	rm -rf build build-san

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
include mk/fuzz.mk
include mk/faults.mk
