#!/usr/bin/env bash
# demo-header.sh — first step of `make demo`: include/trace.h at work.
#
# Starts the header test program (test/header/probes.c), shows its probes
# with readelf, then attaches bpftrace and the libbpf tool usdt_args to it
# while it fires its probes three times, and shows what each tracer read and
# how the guarded probe's semaphore moves (0 -> attached -> 0). Needs root
# for the tracers; without root it shows the static part and says why.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROBES=$ROOT/build/test/header/probes-gcc-c
USDT_ARGS=$ROOT/build/test/header/libbpf/usdt_args
TMP=$(mktemp -d)
PIDS=()

say() { printf '\n==> %s\n' "$*"; }

cleanup() {
	for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	[ -n "${PROG_PID:-}" ] && kill "$PROG_PID" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

[ -x "$PROBES" ] || { echo "demo: $PROBES is not built (run make)" >&2; exit 1; }

# Drive the program through a FIFO; its replies go to a file we can poll.
mkfifo "$TMP/in"
"$PROBES" < "$TMP/in" > "$TMP/out" &
PROG_PID=$!
exec 3> "$TMP/in"
cmd() {
	local before
	before=$(wc -l < "$TMP/out")
	echo "$1" >&3
	until [ "$(wc -l < "$TMP/out")" -gt "$before" ]; do sleep 0.05; done
	tail -n 1 "$TMP/out"
}
# wait_line FILE TEXT: until FILE holds a line with TEXT (30 s at most).
wait_line() {
	local deadline=$((SECONDS + 30))
	until grep -q "$2" "$1" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || { echo "demo: timed out waiting for '$2' in $1" >&2; return 1; }
		sleep 0.05
	done
}
wait_line "$TMP/out" "ready pid="

say "Probes in $(basename "$PROBES") (readelf -n), first four of 27:"
readelf -n "$PROBES" | grep -A2 "Name: args[0-3]$" | grep -E "Name|Arguments" | sed 's/^ */    /'

say "Guarded probe before any tracer: $(cmd sem); $(cmd fire)"

if [ "$(id -u)" -ne 0 ]; then
	say "Not root: skipping the live part (bpftrace and libbpf need root)."
	exit 0
fi

bpftrace -p "$PROG_PID" -e '
BEGIN { printf("ready\n"); }
usdt:'"$PROBES"':test:args6 { printf("bpftrace args6: %lld \"%s\" %u bool=%d int32=%d\n",
	arg0, str(arg1), arg2, arg4, arg5); }
usdt:'"$PROBES"':test:guarded { printf("bpftrace guarded: evaluation #%lld\n", arg0); }' \
	> "$TMP/bpftrace" 2>&1 &
PIDS+=($!)
"$USDT_ARGS" -p "$PROG_PID" -b "$PROBES" > "$TMP/libbpf" 2>&1 &
PIDS+=($!)
wait_line "$TMP/bpftrace" "^ready"
wait_line "$TMP/libbpf" "^attached"

say "Tracers attached: $(cmd sem). Firing every probe three times:"
for _ in 1 2 3; do echo "    $(cmd fire)"; done
wait_line "$TMP/bpftrace" "evaluation #3"
wait_line "$TMP/libbpf" "^guarded a1=3"

say "bpftrace (reads arg0..arg5):"
grep -v '^ready' "$TMP/bpftrace" | grep -v RLIMIT | sed 's/^/    /'
say "libbpf usdt_args (all 12 arguments), the last probes of the last round:"
grep -E '^(args12|vargs12|guarded) ' "$TMP/libbpf" | tail -n 3 | sed 's/^/    /'

for pid in "${PIDS[@]}"; do kill -INT "$pid"; wait "$pid" 2>/dev/null || true; done
PIDS=()
until [ "$(cmd sem)" = "sem 0" ]; do sleep 0.05; done
say "Tracers detached: $(cmd sem); $(cmd fire) (the guarded argument is no longer evaluated)"
echo quit >&3
