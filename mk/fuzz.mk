# Fuzzing: libFuzzer harnesses (tests/fuzz/fuzz_*.c) built with clang, ASan and UBSan.
#
#   make fuzz FUZZ_SECONDS=N   each harness, one after another, N seconds (default 10) on a
#                              copy of its seed corpus (tests/fuzz/corpus/<harness>/)
#   make fuzz-smoke            the same for FUZZ_SMOKE_SECONDS (default 2): every seed runs
#                              once, then a short fuzz; for make check / CI
#
# Any crash, leak, UB report or timeout fails the target; the input that did it is kept
# in build-fuzz/artifacts/<harness>/. Objects live in build-fuzz/ so they never mix with
# the gcc builds. Included by the Makefile (uses its LIB_SRC, BOARD_SRC, WARN, PKGS, pc).

FUZZ_O             := build-fuzz
FUZZ_CC            := clang
FUZZ_SECONDS       ?= 10
FUZZ_SMOKE_SECONDS ?= 2
FUZZ_SAN           := -fsanitize=address,undefined -fno-sanitize-recover=all \
                      -fno-omit-frame-pointer
FUZZ_BASE          := -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g $(FUZZ_SAN) -Iinclude \
                      -DESPDOCTOR_VERSION='"$(VERSION)"'
FUZZ_PKGS          := $(PKGS) $(SIM_PKGS)

FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_O)/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_O)/obj/%.o)
# The virtual board's RFC 2217 server and what it drives, for fuzz_rfc2217_server.
FUZZ_SIM_OBJ := $(BOARD_SRC:%.c=$(FUZZ_O)/obj/%.o) \
                $(FUZZ_O)/obj/tests/sim/host.o $(FUZZ_O)/obj/tests/sim/rfc2217.o
FUZZ_DEPS    := $(FUZZ_O)/.deps-fuzz

.PHONY: fuzz fuzz-smoke fuzz-build clean-fuzz

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@sh tests/fuzz/run.sh $(FUZZ_O) $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-smoke: $(FUZZ_BIN)
	@sh tests/fuzz/run.sh $(FUZZ_O) $(FUZZ_SMOKE_SECONDS) $(FUZZ_BIN)

$(FUZZ_DEPS): mk/deps.sh
	@mkdir -p $(FUZZ_O)
	@sh mk/deps.sh fuzz
	@touch $@

# Library and board code: instrumented for coverage, linked into every harness.
$(FUZZ_O)/obj/src/%.o: src/%.c | $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_BASE) -fsanitize=fuzzer-no-link $(call pc,--cflags,$(PKGS)) \
		-MMD -MP -c $< -o $@

$(FUZZ_O)/obj/tests/sim/%.o: tests/sim/%.c | $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_BASE) -fsanitize=fuzzer-no-link -Itests/sim \
		$(call pc,--cflags,$(FUZZ_PKGS)) -MMD -MP -c $< -o $@

$(FUZZ_O)/obj/tests/fuzz/%.o: tests/fuzz/%.c | $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_BASE) -fsanitize=fuzzer-no-link -Isrc -Itests/sim -Itests/fuzz \
		$(call pc,--cflags,$(FUZZ_PKGS)) -MMD -MP -c $< -o $@

$(FUZZ_O)/libespdoctor.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_O)/fuzz_%: $(FUZZ_O)/obj/tests/fuzz/fuzz_%.o $(FUZZ_O)/libespdoctor.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(call pc,--libs,$(PKGS)) -lpthread

$(FUZZ_O)/fuzz_rfc2217_server: $(FUZZ_O)/obj/tests/fuzz/fuzz_rfc2217_server.o $(FUZZ_SIM_OBJ) \
		$(FUZZ_O)/libespdoctor.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(call pc,--libs,$(PKGS) glib-2.0)

# The udev readers run against a umockdev testbed.
$(FUZZ_O)/fuzz_ports: $(FUZZ_O)/obj/tests/fuzz/fuzz_ports.o $(FUZZ_O)/libespdoctor.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(call pc,--libs,$(PKGS) umockdev-1.0)

clean-fuzz:
	rm -rf $(FUZZ_O)

clean: clean-fuzz

-include $(shell find $(FUZZ_O)/obj -name '*.d' 2>/dev/null)
