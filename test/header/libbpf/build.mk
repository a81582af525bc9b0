# libbpf tool for the header's live test (a libbpf-tools style triad:
# usdt_args.bpf.c kernel side, usdt_args.c user side, usdt_args.h shared).
# CO-RE BPF object built with clang against vmlinux.h generated from the
# running kernel's BTF, skeleton from bpftool, user side with the project's
# flags. Everything generated stays under build/.
LIBBPF_DIR  := $(BUILD)/test/header/libbpf
LIBBPF_SRC  := test/header/libbpf
BPFTOOL     ?= bpftool
BPF_CFLAGS  := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	       -I/usr/include/x86_64-linux-gnu -I$(LIBBPF_DIR) -I$(LIBBPF_SRC)
ALL_TARGETS += $(LIBBPF_DIR)/usdt_args

$(LIBBPF_DIR)/vmlinux.h:
	@mkdir -p $(dir $@)
	$(call msg,BTF,$@)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(LIBBPF_DIR)/usdt_args.bpf.o: $(LIBBPF_SRC)/usdt_args.bpf.c $(LIBBPF_SRC)/usdt_args.h $(LIBBPF_DIR)/vmlinux.h
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(LIBBPF_DIR)/usdt_args.skel.h: $(LIBBPF_DIR)/usdt_args.bpf.o
	$(call msg,GEN-SKEL,$@)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(LIBBPF_DIR)/usdt_args: $(LIBBPF_SRC)/usdt_args.c $(LIBBPF_SRC)/usdt_args.h $(LIBBPF_DIR)/usdt_args.skel.h
	$(call msg,CC,$@)$(CC) $(CFLAGS) -I$(LIBBPF_DIR) -I$(LIBBPF_SRC) -o $@ $< -lbpf -lelf -lz
CONTRACT_CHECKS += $(LIBBPF_DIR)/usdt_args:test/header/no-tracepoints.md
