#!/usr/bin/env bash
# demo.sh — `make demo`: a three-node moneyrocketd network on loopback,
# watched through its tracepoints.
#
# Steps:
#   1. start three nodes in a temporary directory (free loopback ports)
#   2. attach contrib/tracing/log_p2p_traffic.bt and log_p2p_connections.bt,
#      and the libbpf tool p2pstat to node0 (needs root; without it the demo
#      runs untraced and says so)
#   3. connect the nodes in a triangle, let them exchange version, addr and
#      ping messages; a throw-away peer sends a message with the wrong network
#      magic, so the node closes its connection (as Bitcoin Core does: a
#      framing error, not misbehaviour); one connection is dropped;
#      p2pstat prints node0's messages per peer and type
#   4. node0 mines 101 blocks, the others sync; node0 pays node2, node1 mines
#      the payment; connectblock_benchmark.bt and log_utxocache_flush.py watch,
#      and log_utxos.bt prints the coins the payment and its block add and spend
#   5. wallets: alice (node0), bob (node1) and carol (node2) pay each other
#      from named wallets while log_coin_selection.py shows each decision
#   6. the tracers above stop; moneyrocket-exporter counts every node's
#      tracepoints in BPF maps and Prometheus scrapes it while node0 mines
#      and alice pays bob; one query shows the blocks each node connected
#      (the exporter starts only now: a BCC script and a libbpf tool cannot
#      hold the same guarded tracepoint at once, doc: contrib/tracing/README.md)
#   7. stop the tracers and the nodes; the full tracer logs stay in a
#      directory named at the end
# Tracer output is shown prefixed with its name ([traffic], [conns], ...).
# A busy tracer shows its first lines only, then a summary per message
# type or event; its whole output is in the log directory. Ctrl-C or an
# error at any point still stops everything and removes the node data.
#
# Environment: MONEYROCKETD, MONEYROCKET_CLI (binaries to use),
# DEMO_SECONDS (how long traffic runs in step 3, default 5),
# DEMO_KEEP=1 (keep the temporary directory).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DAEMON=${MONEYROCKETD:-$ROOT/src/moneyrocketd}
CLI=${MONEYROCKET_CLI:-$ROOT/src/moneyrocket-cli}
PY=/usr/bin/python3
# shellcheck source=scripts/demo-lib.sh
. "$ROOT/scripts/demo-lib.sh"
# The BCC tracers print into pipes: line by line, not when a buffer fills.
export PYTHONUNBUFFERED=1
DEMO_SECONDS=${DEMO_SECONDS:-5}
NODES=3

TMP=""
LOGDIR=""
NODE_PIDS=()
TRACER_PIDS=()
P2P_PORTS=()
RPC_PORTS=()
MINER_ADDR=""

say() { printf '\n==> %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

# ---- cleanup: runs on every exit path -------------------------------------
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_tracers
	stop_nodes
	stop_prometheus
	demo_remove_dir demo "$TMP" $rc
	exit $rc
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

cli() { # cli N METHOD ARGS...
	local n=$1; shift
	"$CLI" -datadir="$TMP/node$n" -rpcport="${RPC_PORTS[$n]}" "$@"
}

# json_get KEY: read a JSON object on stdin, print its KEY.
json_get() { "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# ---- step 1: nodes --------------------------------------------------------
start_nodes() {
	say "Step 1: starting $NODES nodes in $TMP"
	local n
	for ((n = 0; n < NODES; n++)); do
		P2P_PORTS[$n]=$(free_port)
		RPC_PORTS[$n]=$(free_port)
		mkdir -p "$TMP/node$n"
		"$DAEMON" -datadir="$TMP/node$n" -port="${P2P_PORTS[$n]}" \
			-rpcport="${RPC_PORTS[$n]}" -bind=127.0.0.1 -listen=1 -debug=net \
			>"$TMP/node$n/stdout.txt" 2>&1 &
		NODE_PIDS[$n]=$!
	done
	for ((n = 0; n < NODES; n++)); do
		wait_for 30 cli $n getnetworkinfo ||
			die "node$n did not answer RPC; see $TMP/node$n/debug.log"
		echo "node$n: pid ${NODE_PIDS[$n]}, P2P 127.0.0.1:${P2P_PORTS[$n]}, RPC ${RPC_PORTS[$n]}"
	done
}

stop_nodes() {
	local n pid
	for n in "${!NODE_PIDS[@]}"; do
		pid=${NODE_PIDS[$n]}
		kill -0 "$pid" 2>/dev/null || continue
		cli "$n" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
	done
	for n in "${!NODE_PIDS[@]}"; do
		pid=${NODE_PIDS[$n]}
		if ! wait_for 30 sh -c "! kill -0 $pid"; then
			echo "demo: node$n did not stop; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
	NODE_PIDS=()
}

# ---- step 2: tracers ------------------------------------------------------
# show NAME [LIMIT [SUMMARY_RE]]: a tracer's output, prefixed with [NAME].
# Blank lines and bpftrace's harmless RLIMIT_MEMLOCK warning are left out.
# With LIMIT, only the first LIMIT lines are shown, then one line saying
# where the rest is; lines from one matching SUMMARY_RE on (the tracer's
# own totals at Ctrl-C) are shown again.
show() {
	# mawk (Debian's awk) reads a pipe in blocks unless told it is
	# interactive: without it, a quiet tracer's lines would wait for more.
	local awk=(awk)
	awk -W version 2>/dev/null | grep -q mawk && awk=(awk -W interactive)
	"${awk[@]}" -v p="[$1] " -v n="${2:-0}" -v re="${3:-}" -v file="$LOGDIR/$1.log" '
		/RLIMIT_MEMLOCK/ || NF == 0 { next }
		re != "" && $0 ~ re { tail = 1 }
		{ c++ }
		tail || n == 0 || c <= n { print p $0; fflush(); next }
		c == n + 1 { print p "... (busy: the rest is in " file ")"; fflush() }'
}

# start_tracer NAME LIMIT SCRIPT ARGS...: run a bpftrace script against the
# node binary; its output goes whole to $LOGDIR/NAME.log and through show.
start_tracer() {
	local name=$1 limit=$2 script=$3
	shift 3
	# -B line: a line as soon as it is printed, not when a buffer fills.
	bpftrace -B line "$ROOT/contrib/tracing/$script" "$DAEMON" "$@" \
		> >(tee "$LOGDIR/$name.log" | show "$name" "$limit" "^Blocks connected") 2>&1 &
	TRACER_PIDS+=($!)
	LAST_TRACER=$!
	# The script's BEGIN block prints "... Ctrl-C to ..." once attached.
	wait_for 60 grep -q "Ctrl-C to" "$LOGDIR/$name.log" ||
		die "$script did not attach; see $LOGDIR/$name.log"
}

# stop_one PID: Ctrl-C one tracer and wait for its last words.
stop_one() {
	kill -INT "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	sleep 0.3 # let the prefixing pipe flush
}

start_tracers() {
	say "Step 2: attaching log_p2p_traffic.bt, log_p2p_connections.bt and p2pstat (libbpf)"
	if [ "$(id -u)" -ne 0 ]; then
		echo "demo: not root, so no tracing (bpftrace needs root); the network runs untraced"
		return
	fi
	command -v bpftrace >/dev/null || die "bpftrace not installed (run scripts/setup-deps.sh)"
	start_tracer traffic 8 log_p2p_traffic.bt
	TRAFFIC_PID=$LAST_TRACER
	start_tracer conns 0 log_p2p_connections.bt
	start_p2pstat
}

# The libbpf tool p2pstat counts node0's messages in the kernel during step
# 3 and prints its table, prefixed [p2pstat], when that step ends.
P2PSTAT=$ROOT/build/contrib/tracing/libbpf/p2pstat
P2PSTAT_PID=""
start_p2pstat() {
	[ -x "$P2PSTAT" ] || die "$P2PSTAT is not built (run make)"
	"$P2PSTAT" "${NODE_PIDS[0]}" \
		> >(tee "$LOGDIR/p2pstat.log" | show p2pstat 20 "^total:") 2>&1 &
	P2PSTAT_PID=$!
	TRACER_PIDS+=($P2PSTAT_PID)
	wait_for 60 grep -q "Ctrl-C to end" "$LOGDIR/p2pstat.log" ||
		die "p2pstat did not attach; see $LOGDIR/p2pstat.log"
}

# moneyrocket-exporter counts every node's tracepoints in BPF maps, for
# Prometheus (step 6). It traces the processes of this demo's binary only,
# not other nodes that may run on the machine.
EXPORTER=$ROOT/build/contrib/tracing/libbpf/moneyrocket-exporter
EXPORTER_ADDR=""
start_exporter() {
	[ -x "$EXPORTER" ] || die "$EXPORTER is not built (run make)"
	EXPORTER_ADDR=127.0.0.1:$(free_port)
	"$EXPORTER" --listen "$EXPORTER_ADDR" "$DAEMON" >"$LOGDIR/exporter.log" 2>&1 &
	TRACER_PIDS+=($!)
	local n
	for ((n = 0; n < NODES; n++)); do
		wait_for 30 grep -q "^node ${NODE_PIDS[$n]}: tracing" "$LOGDIR/exporter.log" ||
			die "moneyrocket-exporter did not pick up node$n; see $LOGDIR/exporter.log"
	done
	echo "moneyrocket-exporter counts all three nodes' tracepoints, on http://$EXPORTER_ADDR/metrics"
}

# traffic_summary: what log_p2p_traffic.bt saw, per direction and type.
traffic_summary() {
	echo "log_p2p_traffic.bt saw, per direction and message type (full log: $LOGDIR/traffic.log):"
	awk '$1 == "recv" || $1 == "send" { n[$1 " " $2]++ }
		END { for (k in n) print k, n[k] }' "$LOGDIR/traffic.log" |
		sort | awk '{ printf "  %-4s %-12s %7d%s", $1, $2, $3, (++i % 3 ? "   " : "\n") }
			END { if (i % 3) print "" }'
}

stop_p2pstat() {
	[ -n "$P2PSTAT_PID" ] || return 0
	echo "node0's messages during step 3, counted in the kernel by p2pstat (its first peer, and the total):"
	kill -INT "$P2PSTAT_PID" 2>/dev/null || true
	wait "$P2PSTAT_PID" 2>/dev/null || true
	P2PSTAT_PID=""
	sleep 0.2 # let the prefixing pipe flush
}

stop_tracers() {
	local pid
	for pid in "${TRACER_PIDS[@]}"; do
		kill -INT "$pid" 2>/dev/null || true
	done
	for pid in "${TRACER_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	TRACER_PIDS=()
	sleep 0.2 # let the prefixing pipes flush their last lines
}

# ---- step 3: traffic ------------------------------------------------------
connections() { cli "$1" getnetworkinfo | json_get connections; }
has_connections() { [ "$(connections "$1")" -ge "$2" ]; }
has_fewer_connections() { [ "$(connections "$1")" -lt "$2" ]; }

connect() { # connect A B: node A opens a manual connection to node B
	cli "$1" addnode "127.0.0.1:${P2P_PORTS[$2]}" onetry >/dev/null
}

# A peer that speaks the wrong network: 24 bytes of header with bad magic.
send_wrong_magic() {
	"$PY" - "${P2P_PORTS[0]}" <<-'EOF'
		import socket, struct, sys
		# From its own address, so it shows apart in the connection log.
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10,
		                             source_address=("127.99.0.1", 0))
		s.sendall(b"\xf9\xbe\xb4\xd9" + b"version".ljust(12, b"\0") + struct.pack("<I", 0) + b"\x5d\xf6\xe0\xe2")
		try:
		    s.recv(1)  # the node closes the connection
		except OSError:
		    pass
	EOF
}

traffic() {
	say "Step 3: connecting the nodes and letting them talk for ${DEMO_SECONDS}s"
	connect 1 0
	connect 2 1
	connect 2 0
	wait_for 30 has_connections 0 2 || die "node0 did not get its two connections"
	wait_for 30 has_connections 1 2 || die "node1 did not get its two connections"
	wait_for 30 has_connections 2 2 || die "node2 did not get its two connections"
	echo "all three nodes connected"
	local n
	for ((n = 0; n < NODES; n++)); do
		cli $n ping >/dev/null 2>&1 || true # ask for a ping round now
	done
	echo "a stranger sends node0 a message with the wrong network magic"
	send_wrong_magic
	sleep "$DEMO_SECONDS"
	echo "node2 drops its connection to node0"
	local peer
	peer=$(cli 2 getpeerinfo | "$PY" -c '
import json, sys
port = sys.argv[1]
print(next(p["id"] for p in json.load(sys.stdin) if p["addr"].endswith(":" + port)))' "${P2P_PORTS[0]}")
	cli 2 disconnectnode "" "$peer" >/dev/null
	wait_for 30 has_fewer_connections 2 2 ||
		die "node2 did not drop the connection"
	for ((n = 0; n < NODES; n++)); do
		echo "node$n: $(connections $n) connections"
	done
	if [ -n "${TRAFFIC_PID:-}" ]; then
		stop_one "$TRAFFIC_PID"
		TRAFFIC_PID=""
		traffic_summary
	fi
	stop_p2pstat
}

# ---- step 4: chain --------------------------------------------------------
tip() { cli "$1" getbestblockhash; }
same_tip() { [ "$(tip 0)" = "$(tip "$1")" ]; }

# The BCC flush logger, against node0 only (BCC needs one process).
start_flush_logger() {
	"$PY" "$ROOT/contrib/tracing/log_utxocache_flush.py" "${NODE_PIDS[0]}" \
		> >(tee "$LOGDIR/flush.log" | show flush) 2>&1 &
	TRACER_PIDS+=($!)
	wait_for 60 grep -q "Ctrl-C to end" "$LOGDIR/flush.log" ||
		die "log_utxocache_flush.py did not attach; see $LOGDIR/flush.log"
}

chain() {
	say "Step 4: mining and a payment, traced by connectblock_benchmark.bt, log_utxocache_flush.py and log_utxos.bt"
	if [ "$(id -u)" -eq 0 ]; then
		start_tracer blocks 10 connectblock_benchmark.bt 1 0 50
		BLOCKS_PID=$LAST_TRACER
		start_flush_logger
	fi
	local key addr wif cb raw signed txid other
	key=$(cli 0 getnewkeypair)
	addr=$(json_get address <<<"$key")
	wif=$(json_get privkey <<<"$key")
	other=$(cli 2 getnewkeypair | json_get address)
	echo "node0 mines 101 blocks (the first coinbase matures); nodes 1 and 2 sync them"
	cli 0 generatetoaddress 101 "$addr" >/dev/null
	wait_for 60 same_tip 1 || die "node1 did not sync"
	wait_for 60 same_tip 2 || die "node2 did not sync"
	cb=$(cli 0 getblock "$(cli 0 getblockhash 1)" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["tx"][0])')
	raw=$(cli 0 createrawtransaction "[{\"txid\":\"$cb\",\"vout\":0}]" "{\"$other\":49.999}" | tr -d '"')
	signed=$(cli 0 signrawtransactionwithkey "$raw" "[\"$wif\"]" | json_get hex)
	# From here on every coin added or spent is printed, on each node.
	local utxos=""
	if [ "$(id -u)" -eq 0 ]; then
		start_tracer utxos 6 log_utxos.bt
		utxos=$LAST_TRACER
	fi
	txid=$(cli 0 sendrawtransaction "$signed" | tr -d '"')
	echo "node0 pays 49.999 coins to node2's key in $txid; node1 mines it"
	wait_for 30 cli 1 getmempoolentry "$txid" || die "the transaction did not reach node1"
	cli 1 generatetoaddress 1 "$other" >/dev/null
	wait_for 60 same_tip 0 || die "node0 did not get node1's block"
	wait_for 60 same_tip 2 || die "node2 did not get node1's block"
	echo "all three at height $(cli 0 getblockcount); UTXO set hash $(cli 0 gettxoutsetinfo | json_get hash_serialized) (node0 flushes for it)"
	[ "$(cli 2 gettxoutsetinfo | json_get hash_serialized)" = "$(cli 0 gettxoutsetinfo | json_get hash_serialized)" ] ||
		die "node0 and node2 disagree on the UTXO set"
	if [ -n "$utxos" ]; then # the wallet step would flood it: stop it here
		stop_one "$utxos"
		echo "log_utxos.bt saw (full log: $LOGDIR/utxos.log):" \
			"$(awk '$1 == "Added" || $1 == "Spent" || $1 == "Uncache" { n[$1]++ }
				END { for (k in n) printf "%s %d coins, ", k, n[k] }' "$LOGDIR/utxos.log" |
				sed 's/, $//')"
	fi
	if [ -n "${BLOCKS_PID:-}" ]; then # its histogram, now
		stop_one "$BLOCKS_PID"
		BLOCKS_PID=""
	fi
}

# ---- step 5: wallets -------------------------------------------------------
# start_coin_logger N: log_coin_selection.py against node N.
start_coin_logger() {
	"$PY" "$ROOT/contrib/tracing/log_coin_selection.py" "${NODE_PIDS[$1]}" \
		> >(tee "$LOGDIR/coins$1.log" | show "coins$1") 2>&1 &
	TRACER_PIDS+=($!)
	wait_for 90 grep -q "Ctrl-C to stop" "$LOGDIR/coins$1.log" ||
		die "log_coin_selection.py did not attach; see $LOGDIR/coins$1.log"
}

wcli() { # wcli N WALLET METHOD ARGS...: a call to /wallet/WALLET on node N
	local n=$1 w=$2; shift 2
	cli "$n" -rpcwallet="$w" "$@"
}

balance() { wcli "$1" "$2" getbalances | "$PY" -c 'import json, sys; m = json.load(sys.stdin)["mine"]; print("%.8f trusted, %.8f pending" % (m["trusted"], m["untrusted_pending"]))'; }

in_mempool() { cli "$1" getmempoolentry "$2"; }
confirmed() { [ "$(wcli "$1" "$2" gettransaction "$3" | json_get confirmations)" -ge 1 ]; }

# mine_all N: node N mines a block with the mempool; everyone syncs.
mine_all() {
	cli "$1" generatetoaddress 1 "$MINER_ADDR" >/dev/null
	wait_for 60 same_tip 1 && wait_for 60 same_tip 2 || die "the nodes did not sync"
}

wallets() {
	say "Step 5: payments between named wallets, coin selection traced by log_coin_selection.py"
	if [ "$(id -u)" -eq 0 ]; then
		start_coin_logger 0
		start_coin_logger 1
	fi
	cli 0 createwallet alice >/dev/null
	cli 1 createwallet bob >/dev/null
	cli 2 createwallet carol >/dev/null
	local a b b2 c t1 t2 t3 t4
	a=$(wcli 0 alice getnewaddress "mining")
	MINER_ADDR=$a
	echo "node0 mines 101 blocks to alice's wallet"
	cli 0 generatetoaddress 101 "$a" >/dev/null
	wait_for 60 same_tip 1 && wait_for 60 same_tip 2 || die "the nodes did not sync"
	b=$(wcli 1 bob getnewaddress "from alice")
	b2=$(wcli 1 bob getnewaddress "savings")
	c=$(wcli 2 carol getnewaddress)
	echo "alice pays bob 3 coins twice to one address and 1 to another, and carol 5 (sendmany)"
	t1=$(wcli 0 alice sendtoaddress "$b" 3)
	t2=$(wcli 0 alice sendtoaddress "$b" 3)
	t3=$(wcli 0 alice sendmany "" "{\"$b2\":1,\"$c\":5}")
	wait_for 60 in_mempool 2 "$t3" || die "alice's payments did not reach node2"
	mine_all 2
	wait_for 60 confirmed 1 bob "$t2" || die "bob does not see his payments confirmed"
	echo "bob: $(balance 1 bob); carol: $(balance 2 carol)"
	echo "bob pays carol 3.5 at 20 sat/vB: two of his coins share an address, so he also tries grouping them"
	t4=$(wcli 1 bob sendtoaddress "$c" 3.5 "rent" 20)
	wait_for 60 in_mempool 2 "$t4" && wait_for 60 in_mempool 0 "$t4" ||
		die "bob's payment did not reach node0 and node2"
	echo "bob tries to pay carol 100 coins: insufficient funds"
	wcli 1 bob sendtoaddress "$c" 100 2>&1 | sed 's/^/  /' || true
	mine_all 0
	wait_for 60 confirmed 2 carol "$t4" || die "carol does not see bob's payment confirmed"
	echo "carol pays alice 1 coin back"
	wcli 2 carol sendtoaddress "$a" 1 >/dev/null
	sleep 0.5 # the BCC logger prints a block 0.2 s after the last event
	echo "alice: $(balance 0 alice)"
	echo "bob:   $(balance 1 bob)"
	echo "carol: $(balance 2 carol)"
}

# ---- step 6: Prometheus -----------------------------------------------------
PROM_PID=""
stop_prometheus() {
	[ -n "$PROM_PID" ] || return 0
	kill -TERM "$PROM_PID" 2>/dev/null || true
	wait "$PROM_PID" 2>/dev/null || true
	PROM_PID=""
}

# prom_query EXPR: Prometheus's answer to an instant query, one
# "labels value" line per series.
prom_query() {
	"$PY" - "$PROM_ADDR" "$1" <<-'EOF'
		import json, sys, urllib.parse, urllib.request
		url = "http://%s/api/v1/query?%s" % (sys.argv[1], urllib.parse.urlencode({"query": sys.argv[2]}))
		with urllib.request.urlopen(url, timeout=10) as r:
		    for res in json.load(r)["data"]["result"]:
		        labels = ",".join('%s="%s"' % kv for kv in sorted(res["metric"].items())
		                          if kv[0] != "__name__")
		        print("  {%s} %s" % (labels, res["value"][1]))
	EOF
}

prom_has() { [ -n "$(prom_query "$1")" ]; }

prometheus_step() {
	say "Step 6: Prometheus scrapes moneyrocket-exporter while node0 mines and alice pays bob"
	stop_tracers
	if [ "$(id -u)" -ne 0 ]; then
		echo "demo: not root, so no exporter (it loads BPF programs) and no Prometheus step"
		return
	fi
	if ! command -v prometheus >/dev/null; then
		echo "demo: prometheus not installed (run scripts/setup-deps.sh); skipping"
		return
	fi
	start_exporter
	PROM_ADDR=127.0.0.1:$(free_port)
	mkdir -p "$LOGDIR/prometheus"
	cat >"$LOGDIR/prometheus/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  evaluation_interval: 1s
		rule_files:
		  - "$ROOT/contrib/tracing/prometheus/moneyrocket.rules.yml"
		scrape_configs:
		  - job_name: moneyrocket
		    static_configs:
		      - targets: ["$EXPORTER_ADDR"]
	EOF
	prometheus --config.file="$LOGDIR/prometheus/prometheus.yml" \
		--storage.tsdb.path="$TMP/prometheus-data" --web.listen-address="$PROM_ADDR" \
		>"$LOGDIR/prometheus/prometheus.log" 2>&1 &
	PROM_PID=$!
	echo "Prometheus on http://$PROM_ADDR scrapes it every second ($LOGDIR/prometheus/prometheus.yml)"
	wait_for 90 prom_has 'moneyrocket_exporter_nodes == 3' ||
		die "Prometheus did not scrape the exporter; see $LOGDIR/prometheus/prometheus.log"
	echo "node0 mines 5 blocks; alice pays bob 1 coin; node1 mines it"
	cli 0 generatetoaddress 5 "$MINER_ADDR" >/dev/null
	local t
	t=$(wcli 0 alice sendtoaddress "$(wcli 1 bob getnewaddress)" 1)
	wait_for 60 in_mempool 1 "$t" || die "alice's payment did not reach node1"
	mine_all 1
	wait_for 60 prom_has 'moneyrocket_blocks_connected_total == 6' ||
		die "Prometheus did not see the blocks; see $LOGDIR/prometheus/prometheus.log"
	wait_for 60 prom_has 'count(moneyrocket_blocks_connected_total == 6) == 3' || true
	echo "query: moneyrocket_blocks_connected_total (blocks each node connected since the exporter started):"
	prom_query 'moneyrocket_blocks_connected_total'
	echo "all three at height $(cli 0 getblockcount): 6 blocks more than before this step"
	stop_prometheus
}

# log_list: the log directory's files and their sizes in lines.
log_list() {
	echo "Full tracer logs (kept): $LOGDIR"
	(cd "$LOGDIR" && wc -l -- *.log prometheus/*.log 2>/dev/null | grep -v ' total$' |
		awk '{ printf "  %-28s %8d lines\n", $2, $1 }')
}

main() {
	[ -x "$DAEMON" ] || die "$DAEMON is not built (run make)"
	[ -x "$CLI" ] || die "$CLI is not built (run make)"
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/moneyrocket-demo.XXXXXX")
	LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/moneyrocket-demo-logs.XXXXXX")
	start_nodes
	start_tracers
	traffic
	chain
	wallets
	prometheus_step
	say "Step 7: stopping tracers and nodes"
	stop_tracers
	stop_nodes
	log_list
	echo "demo finished"
}

main "$@"
