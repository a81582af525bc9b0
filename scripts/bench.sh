#!/usr/bin/env bash
# bench.sh — `make bench`: prints every benchmark's tables, one section each.
# The Makefile has built $(BENCH_TARGETS) first. To add a benchmark, write a
# bench_<name> function that prints a section, and append it to SECTIONS.
set -euo pipefail
cd "$(dirname "$0")/.."

section() {
	printf '\n== %s ==\n\n' "$1"
}

# Fail with one clear line when a tool is missing, rather than a traceback.
need() {
	local tool
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "bench: $tool not found: run scripts/setup-deps.sh" >&2
			exit 1
		fi
	done
}

# Issue "Foundation" section 5: instructions per unattached site (callgrind),
# disassembly, nanoseconds per attached hit (needs root). bench/README.md.
bench_trace_cost() {
	section "trace.h: what a tracepoint costs (bench/README.md)"
	need valgrind callgrind_annotate objdump nm
	if [ "$(id -u)" -eq 0 ]; then
		need bpftrace
	fi
	/usr/bin/python3 bench/trace_cost.py build/bench
}

SECTIONS=(bench_trace_cost)

for s in "${SECTIONS[@]}"; do
	"$s"
done
