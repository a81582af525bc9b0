#!/bin/sh
# fuzz.sh SECONDS TARGET... — run each libFuzzer target of test/fuzz/ for
# SECONDS and print one line per target: executions, executions per
# second, coverage (edges, "cov") and features ("ft") at the end, and the
# size of its working corpus. Built by `make fuzz` / `make fuzz-short`.
#
# Each target starts from its seeds and regression inputs in the tree
# (test/fuzz/TARGET/seeds, .../regressions) plus what earlier runs found
# (build/fuzz/corpus/TARGET, where new inputs go: the tree stays clean).
# A crash stops with its input in build/fuzz/artifacts/ and exit status 1;
# add that input to test/fuzz/TARGET/regressions once it is fixed.
set -eu

seconds=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/fuzz
mkdir -p "$build/artifacts" "$build/logs"
status=0
# UBSan aborts (not exits), so libFuzzer saves the input as a crash.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}"

printf '%-10s %8s %12s %10s %8s %8s %8s\n' target seconds executions exec/s cov ft corpus
for t in "$@"; do
	corpus=$build/corpus/$t
	log=$build/logs/$t.log
	mkdir -p "$corpus"
	set -- "$corpus"
	for d in seeds regressions; do
		[ -d "$root/test/fuzz/$t/$d" ] && set -- "$@" "$root/test/fuzz/$t/$d"
	done
	rc=0
	"$build/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 \
		-print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$@" \
		>"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	printf '%-10s %8s %12s %10s %8s %8s %8s\n' "$t" "$seconds" "${execs:-?}" \
		"${rate:-?}" "${cov:-?}" "${ft:-?}" "$(ls "$corpus" | wc -l)"
	if [ "$rc" -ne 0 ]; then
		echo "fuzz: $t failed (exit $rc); its log is $log:" >&2
		grep -E 'ERROR|FUZZ_ASSERT|SUMMARY|Test unit written|runtime error' "$log" >&2 || tail -n 30 "$log" >&2
		status=1
	fi
done
exit $status
