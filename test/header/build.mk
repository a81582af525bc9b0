# The header's test program, in every build the header must support:
# gcc and clang, C and C++, tracing on; and tracing compiled away. Plus a
# compile-only matrix proving warning-free builds under every standard.
HDR_DIR     := $(BUILD)/test/header
HDR_SRC     := test/header/probes.c
HDR_FLAGS   := -Wall -Wextra -Werror -pedantic -O2 -g -Iinclude
HDR_VARIANTS := probes-gcc-c probes-gcc-cxx probes-clang-c probes-clang-cxx
HDR_BINS    := $(addprefix $(HDR_DIR)/,$(HDR_VARIANTS) probes-off)
HDR_STDS_C  := c99 c11 c17
HDR_STDS_CXX := c++11 c++17 c++20

ALL_TARGETS += $(HDR_BINS) $(HDR_DIR)/stdmatrix.stamp
CONTRACT_CHECKS += $(foreach v,$(HDR_VARIANTS),$(HDR_DIR)/$(v):test/header/tracepoints.md)
CONTRACT_CHECKS += $(HDR_DIR)/probes-off:test/header/no-tracepoints.md

$(HDR_DIR)/probes-gcc-c: $(HDR_SRC) include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)gcc -std=c11 $(HDR_FLAGS) -o $@ $<
$(HDR_DIR)/probes-gcc-cxx: $(HDR_SRC) include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CXX,$@)g++ -x c++ -std=c++17 $(HDR_FLAGS) -o $@ $<
$(HDR_DIR)/probes-clang-c: $(HDR_SRC) include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)clang -std=c11 $(HDR_FLAGS) -o $@ $<
$(HDR_DIR)/probes-clang-cxx: $(HDR_SRC) include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CXX,$@)clang++ -x c++ -std=c++17 $(HDR_FLAGS) -o $@ $<
$(HDR_DIR)/probes-off: $(HDR_SRC) include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)gcc -std=c11 -DTRACE_DISABLE $(HDR_FLAGS) -o $@ $<

# Every compiler x standard x (on, off), compile only.
$(HDR_DIR)/stdmatrix.stamp: $(HDR_SRC) include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,MATRIX,$@)set -e; for cc in gcc clang; do \
		cxx=$$([ $$cc = gcc ] && echo g++ || echo clang++); \
		for def in "" -DTRACE_DISABLE; do \
			for std in $(HDR_STDS_C); do \
				$$cc -std=$$std $$def $(HDR_FLAGS) -c -o /dev/null $<; done; \
			for std in $(HDR_STDS_CXX); do \
				$$cxx -x c++ -std=$$std $$def $(HDR_FLAGS) -c -o /dev/null $<; done; \
		done; \
	done; touch $@
