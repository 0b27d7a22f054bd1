# lib/lib.mk — the rules every library shares: its archive, unit tests
# (plain, under valgrind when present, under ASan + UBSan), libFuzzer
# targets and a timed fuzz run.  A library's Makefile sets
#
#   LIB           its name (common, model, stats, aws)
#   LIB_DEPS      libraries it links against (the common library, mostly)
#   TESTS         test programs, each test/<name>.c
#   TEST_DEFS     extra -D flags for the tests
#   TEST_RUN      how to run a test binary (default: run it)
#   VALGRIND_TESTS the tests also run under valgrind (default: TESTS)
#   FUZZ_TARGETS  libFuzzer targets, each fuzz/<name>.c, corpus in fuzz/corpus/<name>
#   FUZZ_MAX_LEN  -max_len of the fuzz run (default 65536)
#
# then includes this file.  Targets: lib (default), test, test-sanitize,
# fuzz, fuzz-run (FUZZ_SECONDS per target, default 20), clean.

include $(dir $(lastword $(MAKEFILE_LIST)))build.mk

LIB_DIR := $(call TD_LIB_DIR,$(LIB))
BUILD ?= $(LIB_DIR)/build
LIB_A := $(call TD_LIB_A,$(LIB))
SRCS := $(sort $(wildcard $(LIB_DIR)/*.c))
HDRS := $(wildcard $(LIB_DIR)/*.h) $(foreach d,$(LIB_DEPS),$(wildcard $(call TD_LIB_DIR,$(d))/*.h))
INCS := -I$(LIB_DIR) $(foreach d,$(LIB_DEPS),-I$(call TD_LIB_DIR,$(d))) -I$(TD_ROOT)/lib/common/test
DEP_A := $(foreach d,$(LIB_DEPS),$(call TD_LIB_A,$(d)))
DEP_SRCS := $(foreach d,$(LIB_DEPS),$(sort $(wildcard $(call TD_LIB_DIR,$(d))/*.c)))
LDLIBS := $(TD_LDLIBS_$(LIB)) $(foreach d,$(LIB_DEPS),$(TD_LDLIBS_$(d)))
TEST_RUN ?=
VALGRIND_TESTS ?= $(TESTS)
FUZZ_SECONDS ?= 20
FUZZ_MAX_LEN ?= 65536
VALGRIND := $(shell command -v valgrind 2>/dev/null)
VALGRIND_RUN := $(VALGRIND) -q --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect

.PHONY: all lib deps test test-sanitize fuzz fuzz-run clean
.DELETE_ON_ERROR:

all: lib
lib: $(LIB_A)

$(BUILD)/obj/%.o: $(LIB_DIR)/%.c $(HDRS) | $(BUILD)/obj
	$(CC) $(TD_CFLAGS) $(INCS) -c $< -o $@

$(BUILD)/obj:
	mkdir -p $@

$(LIB_A): $(patsubst $(LIB_DIR)/%.c,$(BUILD)/obj/%.o,$(SRCS))
	rm -f $@
	ar rcs $@ $^

# Libraries this one depends on, built by their own Makefiles.
deps:
	@for d in $(LIB_DEPS); do $(MAKE) -s -C $(TD_ROOT)/lib/$$d lib || exit 1; done

$(DEP_A): deps

$(BUILD)/%: $(LIB_DIR)/test/%.c $(LIB_A) $(DEP_A) $(wildcard $(LIB_DIR)/test/*.h) $(HDRS)
	$(CC) $(TD_CFLAGS) -Wno-missing-prototypes $(TEST_DEFS) $(INCS) \
		$< $(LIB_A) $(DEP_A) $(LDLIBS) -o $@

test: $(addprefix $(BUILD)/,$(TESTS)) $(TEST_EXTRA)
	@set -e; for t in $(TESTS); do echo "== $(LIB): $$t"; $(TEST_RUN) $(BUILD)/$$t; done
ifneq ($(VALGRIND),)
	@set -e; for t in $(VALGRIND_TESTS); do echo "== $(LIB): $$t (valgrind)"; \
		$(TEST_RUN) $(VALGRIND_RUN) $(BUILD)/$$t > $(BUILD)/$$t.valgrind.log 2>&1 || \
		{ tail -n 60 $(BUILD)/$$t.valgrind.log; exit 1; }; tail -n 1 $(BUILD)/$$t.valgrind.log; done
endif

$(BUILD)/san/%: $(LIB_DIR)/test/%.c $(SRCS) $(DEP_SRCS) $(HDRS) $(wildcard $(LIB_DIR)/test/*.h)
	@mkdir -p $(BUILD)/san
	$(TD_SAN_CC) -std=gnu99 -O1 -g $(TD_WARN) -Wno-missing-prototypes $(TD_SAN) $(TEST_DEFS) \
		$(INCS) $< $(SRCS) $(DEP_SRCS) $(LDLIBS) -o $@

test-sanitize: $(addprefix $(BUILD)/san/,$(TESTS))
	@set -e; for t in $(TESTS); do echo "== $(LIB): $$t (ASan+UBSan)"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(TEST_RUN) $(BUILD)/san/$$t; done

$(BUILD)/fuzz/%: $(LIB_DIR)/fuzz/%.c $(SRCS) $(DEP_SRCS) $(HDRS) $(wildcard $(LIB_DIR)/fuzz/*.h)
	@mkdir -p $(BUILD)/fuzz
	$(CLANG) $(TD_FUZZ_FLAGS) $(FUZZ_EXTRA) $(INCS) -I$(LIB_DIR)/fuzz \
		$< $(SRCS) $(DEP_SRCS) $(LDLIBS) -o $@

fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))

# Each target from its seed corpus plus the files of FUZZ_SEED_DIRS_<target>
# (named after their directory), FUZZ_SECONDS each.
fuzz-run: fuzz
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for t in $(FUZZ_TARGETS); do mkdir -p "$$tmp/$$t"; done; \
	$(foreach t,$(FUZZ_TARGETS),for d in $(FUZZ_SEED_DIRS_$(t)); do \
		for f in "$$d"/*; do cp "$$f" "$$tmp/$(t)/$${d##*/}-$${f##*/}"; done; done; ) \
	for t in $(FUZZ_TARGETS); do \
		if [ -d "$(LIB_DIR)/fuzz/corpus/$$t" ]; then cp -R "$(LIB_DIR)/fuzz/corpus/$$t/." "$$tmp/$$t/"; fi; \
		dict=""; if [ -f "$(LIB_DIR)/fuzz/$$t.dict" ]; then dict="-dict=$(LIB_DIR)/fuzz/$$t.dict"; fi; \
		echo "== $(LIB): $$t ($(FUZZ_SECONDS)s)"; \
		if ! (cd "$$tmp" && $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
			-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 $$dict "$$tmp/$$t" \
			> "$$tmp/$$t.log" 2>&1); then \
			tail -n 60 "$$tmp/$$t.log"; echo "fuzz-run: $$t FAILED"; exit 1; \
		fi; \
		grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::new_units_added)' "$$tmp/$$t.log" || true; \
	done
	@echo "fuzz-run ($(LIB)): all targets passed"

clean:
	rm -rf $(BUILD)
