# libbpf tool for the header's live test: CO-RE BPF object built with clang,
# skeleton from bpftool, user side with the project's flags.
LIBBPF_DIR  := $(BUILD)/test/header/libbpf
LIBBPF_SRC  := test/header/libbpf
ALL_TARGETS += $(LIBBPF_DIR)/usdt_args

$(LIBBPF_DIR)/vmlinux.h:
	@mkdir -p $(dir $@)
	$(call msg,BTF,$@)bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(LIBBPF_DIR)/usdt_args.bpf.o: $(LIBBPF_SRC)/usdt_args.bpf.c $(LIBBPF_SRC)/usdt_args.h $(LIBBPF_DIR)/vmlinux.h
	$(call msg,BPF,$@)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 \
		-I/usr/include/x86_64-linux-gnu -I$(LIBBPF_DIR) -I$(LIBBPF_SRC) -c $< -o $@

$(LIBBPF_DIR)/usdt_args.skel.h: $(LIBBPF_DIR)/usdt_args.bpf.o
	$(call msg,GEN-SKEL,$@)bpftool gen skeleton $< > $@.tmp && mv $@.tmp $@

$(LIBBPF_DIR)/usdt_args: $(LIBBPF_SRC)/usdt_args.c $(LIBBPF_SRC)/usdt_args.h $(LIBBPF_DIR)/usdt_args.skel.h
	$(call msg,CC,$@)$(CC) $(CFLAGS) -I$(LIBBPF_DIR) -I$(LIBBPF_SRC) -o $@ $< -lbpf -lelf -lz
CONTRACT_CHECKS += $(LIBBPF_DIR)/usdt_args:test/header/no-tracepoints.md
