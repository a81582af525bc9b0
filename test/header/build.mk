# The header's test program, in every build the header must support:
# gcc and clang, C and C++, tracing on; and tracing compiled away. Plus a
# compile-only matrix proving warning-free builds under every standard.
HDR_DIR     := $(BUILD)/test/header
HDR_SRC     := test/header/probes.c
HDR_FLAGS   := -Wall -Wextra -Werror -pedantic -O2 -g -Iinclude
HDR_VARIANTS := probes-gcc-c probes-gcc-cxx probes-clang-c probes-clang-cxx
# The same four with TRACE_DISABLE; probes-off is the gcc C one.
HDR_OFF     := probes-off probes-off-gcc-cxx probes-off-clang-c probes-off-clang-cxx
HDR_BINS    := $(addprefix $(HDR_DIR)/,$(HDR_VARIANTS) $(HDR_OFF))
HDR_STDS_C  := c99 c11 c17
HDR_STDS_CXX := c++11 c++14 c++17 c++20

ALL_TARGETS += $(HDR_BINS) $(HDR_DIR)/stdmatrix.stamp
CONTRACT_CHECKS += $(foreach v,$(HDR_VARIANTS),$(HDR_DIR)/$(v):test/header/tracepoints.md)
CONTRACT_CHECKS += $(foreach v,$(HDR_OFF),$(HDR_DIR)/$(v):test/header/no-tracepoints.md)

# $(call hdr_build,NAME,COMPILER AND LANGUAGE FLAGS,EXTRA FLAGS)
define hdr_build
$(HDR_DIR)/$(1): $(HDR_SRC) include/trace.h
	@mkdir -p $$(dir $$@)
	$$(call msg,CC,$$@)$(2) $(3) $(HDR_FLAGS) -o $$@ $$<
endef
$(eval $(call hdr_build,probes-gcc-c,gcc -std=c11))
$(eval $(call hdr_build,probes-gcc-cxx,g++ -x c++ -std=c++17))
$(eval $(call hdr_build,probes-clang-c,clang -std=c11))
$(eval $(call hdr_build,probes-clang-cxx,clang++ -x c++ -std=c++17))
$(eval $(call hdr_build,probes-off,gcc -std=c11,-DTRACE_DISABLE))
$(eval $(call hdr_build,probes-off-gcc-cxx,g++ -x c++ -std=c++17,-DTRACE_DISABLE))
$(eval $(call hdr_build,probes-off-clang-c,clang -std=c11,-DTRACE_DISABLE))
$(eval $(call hdr_build,probes-off-clang-cxx,clang++ -x c++ -std=c++17,-DTRACE_DISABLE))

# The semaphores program (two files; C++ puts them in a namespace) in the
# same four builds, plus compiled away.
SEM_SRCS     := test/header/semaphores.c test/header/semaphores_other.c
SEM_VARIANTS := sem-gcc-c sem-gcc-cxx sem-clang-c sem-clang-cxx
ALL_TARGETS += $(addprefix $(HDR_DIR)/,$(SEM_VARIANTS) sem-off)
CONTRACT_CHECKS += $(foreach v,$(SEM_VARIANTS),$(HDR_DIR)/$(v):test/header/semaphores.md)
CONTRACT_CHECKS += $(HDR_DIR)/sem-off:test/header/no-tracepoints.md

define sem_build
$(HDR_DIR)/$(1): $(SEM_SRCS) test/header/semaphores.h include/trace.h
	@mkdir -p $$(dir $$@)
	$$(call msg,CC,$$@)$(2) $(3) $(HDR_FLAGS) -o $$@ $(SEM_SRCS)
endef
$(eval $(call sem_build,sem-gcc-c,gcc -std=c11))
$(eval $(call sem_build,sem-gcc-cxx,g++ -x c++ -std=c++17))
$(eval $(call sem_build,sem-clang-c,clang -std=c11))
$(eval $(call sem_build,sem-clang-cxx,clang++ -x c++ -std=c++17))
$(eval $(call sem_build,sem-off,gcc -std=c11,-DTRACE_DISABLE))

# Every compiler x standard x (on, off), compile only.
$(HDR_DIR)/stdmatrix.stamp: $(HDR_SRC) $(SEM_SRCS) test/header/semaphores.h include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,MATRIX,$@)set -e; for cc in gcc clang; do \
		cxx=$$([ $$cc = gcc ] && echo g++ || echo clang++); \
		for def in "" -DTRACE_DISABLE; do \
			for std in $(HDR_STDS_C); do for src in $(HDR_SRC) $(SEM_SRCS); do \
				$$cc -std=$$std $$def $(HDR_FLAGS) -c -o /dev/null $$src; done; done; \
			for std in $(HDR_STDS_CXX); do for src in $(HDR_SRC) $(SEM_SRCS); do \
				$$cxx -x c++ -std=$$std $$def $(HDR_FLAGS) -c -o /dev/null $$src; done; done; \
		done; \
	done; touch $@

# The red-zone stress program (test/header/redzone.c): the 5-byte site as
# the header allows it (-mno-red-zone), the 1-byte default, and, to prove
# the test can fail, the 5-byte site with the red zone left on (the flag
# TRACE_NO_RED_ZONE promises -mno-red-zone; here it lies).
RZ_FLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -Iinclude
ALL_TARGETS += $(addprefix $(HDR_DIR)/,redzone-nop5 redzone-nop1 redzone-unsafe)
$(HDR_DIR)/redzone-nop5: test/header/redzone.c include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)gcc $(RZ_FLAGS) -DTRACE_NOP5 -DTRACE_NO_RED_ZONE -mno-red-zone -o $@ $<
$(HDR_DIR)/redzone-nop1: test/header/redzone.c include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)gcc $(RZ_FLAGS) -o $@ $<
$(HDR_DIR)/redzone-unsafe: test/header/redzone.c include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)gcc $(RZ_FLAGS) -DTRACE_NOP5 -DTRACE_NO_RED_ZONE -o $@ $<
