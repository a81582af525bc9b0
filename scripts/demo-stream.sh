#!/usr/bin/env bash
# demo-stream.sh — part of `make demo`: the tracepoint stream, without root.
#
# One node runs as an ordinary user (`nobody` when the demo runs as root);
# moneyrocket-trace, as the same user, lists the schema and then prints the
# node's events as JSON while the node mines and its wallet pays. Another
# user's client is refused. No BPF, no privileges.
#
# Environment: MONEYROCKETD, MONEYROCKET_CLI, MONEYROCKET_TRACE (binaries),
# DEMO_KEEP=1 (keep the temporary directory).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DAEMON=${MONEYROCKETD:-$ROOT/src/moneyrocketd}
CLI=${MONEYROCKET_CLI:-$ROOT/src/moneyrocket-cli}
TRACE=${MONEYROCKET_TRACE:-$ROOT/src/moneyrocket-trace}
PY=/usr/bin/python3
# shellcheck source=scripts/demo-lib.sh
. "$ROOT/scripts/demo-lib.sh"
DIR=""
NODE_PID=""
CLIENT_PID=""

say() { printf '\n==> %s\n' "$*"; }
die() { echo "demo-stream: $*" >&2; exit 1; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$CLIENT_PID" ] && kill -INT "$CLIENT_PID" 2>/dev/null && wait "$CLIENT_PID" 2>/dev/null
	if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
		cli stop >/dev/null 2>&1 || kill -TERM "$NODE_PID" 2>/dev/null || true
		wait "$NODE_PID" 2>/dev/null || true
	fi
	demo_remove_dir demo-stream "$DIR" $rc
	exit $rc
}
trap cleanup EXIT
trap 'echo; echo "demo-stream: interrupted"; exit 130' INT TERM

# "${AS_USER[@]}" CMD...: run CMD as the demo's ordinary user (setpriv
# execs it, so a signal to $! reaches the program itself).
AS_USER=()
[ "$(id -u)" -eq 0 ] && AS_USER=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)

cli() { "$CLI" -datadir="$DIR/node" -rpcport="$RPC_PORT" "$@"; }

main() {
	local user p2p_port n
	for b in "$DAEMON" "$CLI" "$TRACE"; do
		[ -x "$b" ] || die "$b is not built (run make)"
	done
	say "The tracepoint stream: the same tracepoints, no root"
	# A directory the ordinary user can reach, with copies of the programs
	# (the checkout itself may be readable by root only).
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/moneyrocket-stream.XXXXXX")
	chmod 755 "$DIR"
	mkdir "$DIR/bin" "$DIR/node"
	cp "$DAEMON" "$TRACE" "$DIR/bin/"
	[ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$DIR/node"
	user=$("${AS_USER[@]}" id -un)
	RPC_PORT=$(free_port)
	p2p_port=$(free_port)
	"${AS_USER[@]}" "$DIR/bin/moneyrocketd" -datadir="$DIR/node" -port="$p2p_port" \
		-rpcport="$RPC_PORT" -bind=127.0.0.1 >"$DIR/stdout.txt" 2>&1 &
	NODE_PID=$!
	wait_for 30 cli getnetworkinfo || die "the node did not start; see $DIR/node/debug.log"
	echo "node: pid $NODE_PID, running as $user; it serves $DIR/node/trace.sock:"
	ls -l "$DIR/node/trace.sock" | sed 's/^/  /'

	echo
	echo "moneyrocket-trace --list, as $user (the first of 20 tracepoints):"
	"${AS_USER[@]}" "$DIR/bin/moneyrocket-trace" -datadir="$DIR/node" --list | head -9 | sed 's/^/  /'

	echo
	echo "$user subscribes to validation:block_connected, mempool:* and coin_selection:*;"
	echo "the node mines 101 blocks and its wallet pays 1.5 coins:"
	"${AS_USER[@]}" "$DIR/bin/moneyrocket-trace" -datadir="$DIR/node" validation:block_connected \
		'mempool:*' 'coin_selection:*' >"$DIR/events.json" 2>"$DIR/client.txt" &
	CLIENT_PID=$!
	wait_for 30 grep -q subscribed "$DIR/client.txt" || die "the client did not subscribe"
	cli createwallet demo >/dev/null
	cli generatetoaddress 101 "$(cli getnewaddress)" >/dev/null
	cli sendtoaddress "$(cli getnewaddress)" 1.5 >/dev/null
	cli generatetoaddress 1 "$(cli getnewaddress)" >/dev/null
	wait_for 30 grep -q '"height":102' "$DIR/events.json" || die "the stream did not deliver block 102"
	kill -INT "$CLIENT_PID"
	wait "$CLIENT_PID" || true
	CLIENT_PID=""
	head -3 "$DIR/events.json" | cut -c1-150 | sed 's/^/  /'
	echo "  ..."
	grep -v '"event":"validation' "$DIR/events.json" | cut -c1-150 | sed 's/^/  /'
	tail -1 "$DIR/events.json" | cut -c1-150 | sed 's/^/  /'
	echo
	echo "events by type:"
	"$PY" -c 'import collections, json, sys
c = collections.Counter(json.loads(l)["event"] for l in open(sys.argv[1]))
for k, v in sorted(c.items()): print(f"  {v:5d}  {k}")' "$DIR/events.json"
	sed 's/^/  /' "$DIR/client.txt" | tail -1

	if [ "$(id -u)" -eq 0 ]; then
		echo
		echo "another user (root) is refused, even though root may open the socket:"
		"$DIR/bin/moneyrocket-trace" -datadir="$DIR/node" --list 2>&1 | sed 's/^/  /' || true
		n=$(grep -c "refused" "$DIR/node/debug.log" || true)
		grep "refused" "$DIR/node/debug.log" | tail -1 | sed 's/^/  node log: /'
		[ "$n" -gt 0 ] || die "the refusal is not in the node's log"
	fi
	echo
	echo "the stream demo finished (doc/tracing.md, \"The tracepoint stream\")"
}

main "$@"
