# libbpf tool for the header's live test: usdt_args reads every argument of
# the header test program's probes (rules: libbpf_tool in the top Makefile).
$(eval $(call libbpf_tool,test/header/libbpf,usdt_args))
CONTRACT_CHECKS += $(BUILD)/test/header/libbpf/usdt_args:test/header/no-tracepoints.md
