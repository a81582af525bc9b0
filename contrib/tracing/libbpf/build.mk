# libbpf tools for moneyrocketd's tracepoints (rules: libbpf_tool in the top
# Makefile). They carry no probes of their own.
CONTRIB_LIBBPF_TOOLS := p2pstat moneyrocket-exporter p2pcapture
# Extra libraries a tool links, as LIBBPF_LDLIBS_<tool>.
LIBBPF_LDLIBS_moneyrocket-exporter := -lmicrohttpd -lpthread
$(foreach t,$(CONTRIB_LIBBPF_TOOLS),$(eval $(call libbpf_tool,contrib/tracing/libbpf,$(t))))
CONTRACT_CHECKS += $(foreach t,$(CONTRIB_LIBBPF_TOOLS),$(BUILD)/contrib/tracing/libbpf/$(t):test/header/no-tracepoints.md)
