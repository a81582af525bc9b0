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

# Issue "wallet": the wallet's selection step (bench/wallet_select.c) for
# wallets of 1,000, 10,000 and 100,000 coins, unattached and with bpftrace
# counting coin_selection:selected_coins (needs root).
bench_wallet_select() {
	section "Wallet coin selection: unattached and traced (bench/README.md)"
	local bin=build/bench/wallet_select n reps off on count
	printf '%-8s %6s %14s %14s %8s %9s %8s\n' coins reps "median µs" "traced µs" ratio inputs events
	for n in 1000 10000 100000; do
		reps=$((n >= 100000 ? 9 : 21))
		off=$("$bin" "$n" "$reps")
		on="" count="-"
		if [ "$(id -u)" -eq 0 ] && command -v bpftrace >/dev/null; then
			on=$(bpftrace -q -e "usdt:$bin:coin_selection:selected_coins { @n++; }
				END { printf(\"events %d\\n\", @n); clear(@n); }" -c "$bin $n $reps" 2>/dev/null)
			count=$(sed -n 's/^events //p' <<<"$on")
			on=$(grep '^coins' <<<"$on")
		fi
		/usr/bin/python3 - "$off" "$on" "$count" <<-'EOF2'
			import sys
			def f(line):
			    w = line.split()
			    return dict(zip(w[0::2], w[1::2])) if line else {}
			off, on, count = f(sys.argv[1]), f(sys.argv[2]), sys.argv[3]
			a = float(off["median_us"])
			b = float(on["median_us"]) if on else None
			print("%-8s %6s %14.1f %14s %8s %9s %8s" % (off["coins"], off["reps"], a,
			      "%.1f" % b if b else "-", "%.3f" % (b / a) if b else "-", off["selected"], count))
		EOF2
	done
	echo
	echo "median of the reps; traced: bpftrace attached to the selected_coins tracepoint,"
	echo "counting every firing (events = reps when none was lost)."
}

SECTIONS=(bench_trace_cost bench_wallet_select)

for s in "${SECTIONS[@]}"; do
	"$s"
done
