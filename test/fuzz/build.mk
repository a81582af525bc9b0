# libFuzzer targets (test/fuzz/README.md): one per input parser a remote
# or local user can reach.
#
#   make fuzz                 each target for FUZZ_SECONDS (default 60),
#                             printing executions and coverage per target
#   make fuzz FUZZ_TARGETS=rpc FUZZ_SECONDS=600
#   make fuzz-short           each target for a few seconds (make check)
#
# Objects are built with clang and -fsanitize=fuzzer-no-link,address,
# undefined under build/fuzz/obj/; each target links them with libFuzzer's
# main. Not part of `make all`: clang's fuzzer runtime is only needed here.

FUZZ_ALL        := msg tx_block config rpc wallet tracestream
FUZZ_TARGETS    ?= $(FUZZ_ALL)
FUZZ_SECONDS    ?= 60
FUZZ_SHORT_SECONDS ?= 4
FUZZ_DIR        := $(BUILD)/fuzz
FUZZ_OBJDIR     := $(FUZZ_DIR)/obj
FUZZ_SAN        := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS     := -g -O1 -std=c11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc -I$(GEN_DIR) \
		   -Ilib/tracestream -Itest/fuzz \
		   -fsanitize=fuzzer-no-link $(FUZZ_SAN)
# Everything moneyrocketd is made of but its main() (the top Makefile's
# MONEYROCKETD_SRCS).
FUZZ_LIB_SRCS   := $(filter-out src/moneyrocketd.c,$(MONEYROCKETD_SRCS)) test/fuzz/fuzz_util.c
FUZZ_LIB_OBJS   := $(patsubst %.c,$(FUZZ_OBJDIR)/%.o,$(FUZZ_LIB_SRCS))
FUZZ_BINS       := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_ALL))

.PHONY: fuzz fuzz-short fuzz-build
fuzz-build: $(FUZZ_BINS)

$(FUZZ_OBJDIR)/%.o: %.c | $(TRACE_GEN_H)
	@mkdir -p $(dir $@)
	$(call msg,FUZZ-CC,$@)$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: $(FUZZ_OBJDIR)/test/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(call msg,FUZZ-LD,$@)$(CLANG) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(MONEYROCKETD_LDLIBS)

fuzz: $(FUZZ_BINS)
	$(Q)scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-short: $(FUZZ_BINS)
	$(Q)scripts/fuzz.sh $(FUZZ_SHORT_SECONDS) $(FUZZ_ALL)

-include $(wildcard $(FUZZ_OBJDIR)/*/*.d $(FUZZ_OBJDIR)/*/*/*.d)

# Kept between runs (they are prerequisites of pattern rules only).
.SECONDARY: $(FUZZ_LIB_OBJS) $(patsubst %,$(FUZZ_OBJDIR)/test/fuzz/fuzz_%.o,$(FUZZ_ALL))
