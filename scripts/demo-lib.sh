# demo-lib.sh — what the demo scripts share; sourced, not run.
# Needs PY (a python3) set by the script that sources it.

# wait_for SECONDS CMD...: run CMD until it succeeds, or fail after SECONDS.
wait_for() {
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

# A loopback TCP port nobody listens on now.
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# demo_remove_dir NAME DIR RC: remove the demo's temporary DIR, or keep it
# (saying so) when DEMO_KEEP=1 or the demo failed (RC != 0).
demo_remove_dir() {
	[ -n "$2" ] && [ -d "$2" ] || return 0
	if [ "${DEMO_KEEP:-0}" = 1 ] || [ "$3" -ne 0 ]; then
		echo "$1: files kept in $2"
	else
		rm -rf "$2"
	fi
}
