#!/usr/bin/env bash
# setup-deps.sh — make this Debian 12 machine ready to build, trace and test.
#
# Idempotent: installs only the Debian packages that are missing, links kernel
# headers for the running kernel when it has none (BCC compiles against them),
# and mounts tracefs and debugfs when absent. When everything is in place it
# prints one line and changes nothing.
#
# Not root and something missing: says what is missing and how to fix it, exit 1.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config
	systemtap-sdt-dev bpftrace bpfcc-tools python3-bpfcc
	libbpf-dev bpftool clang llvm libelf-dev zlib1g-dev libclang-rt-14-dev
	python3-pytest linux-headers-amd64 valgrind tmux binutils gdb
	cmake meson ninja-build linux-perf
	libevent-dev libjansson-dev libleveldb-dev libsecp256k1-dev libsqlite3-dev libssl-dev
	libmicrohttpd-dev prometheus
)

missing_pkgs=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing_pkgs+=("$p")
	fi
done

kver=$(uname -r)
moddir=/lib/modules/$kver
need_headers=0
[ -e "$moddir/build/Makefile" ] || need_headers=1

need_tracefs=0
# mountpoint, not a look inside: tracefs is mode 700, so a user who is not
# root cannot see its files even when it is mounted.
mountpoint -q /sys/kernel/tracing 2>/dev/null || need_tracefs=1
need_debugfs=0
mountpoint -q /sys/kernel/debug 2>/dev/null || need_debugfs=1

if [ ${#missing_pkgs[@]} -eq 0 ] && [ $need_headers -eq 0 ] &&
   [ $need_tracefs -eq 0 ] && [ $need_debugfs -eq 0 ]; then
	echo "setup-deps: all dependencies present, nothing to do"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "setup-deps: not root and something is missing:" >&2
	[ ${#missing_pkgs[@]} -gt 0 ] && echo "  packages: ${missing_pkgs[*]}" >&2
	[ $need_headers -eq 1 ] && echo "  kernel headers for $kver at $moddir/build" >&2
	[ $need_tracefs -eq 1 ] && echo "  tracefs mounted at /sys/kernel/tracing" >&2
	[ $need_debugfs -eq 1 ] && echo "  debugfs mounted at /sys/kernel/debug" >&2
	echo "run it as root: $0 (e.g. su -c $0, or sudo $0 where sudo is installed)" >&2
	exit 1
fi

if [ ${#missing_pkgs[@]} -gt 0 ]; then
	echo "setup-deps: installing ${missing_pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
fi

# BCC needs headers for the running kernel. Debian ships none for a custom
# kernel, so point the module directory at the generic -amd64 headers.
if [ ! -e "$moddir/build/Makefile" ]; then
	hdr=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
	common=$(ls -d /usr/src/linux-headers-*-common 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$hdr" ] || [ -z "$common" ]; then
		echo "setup-deps: linux-headers-amd64 installed but no headers found in /usr/src" >&2
		exit 1
	fi
	mkdir -p "$moddir"
	ln -sfn "$hdr" "$moddir/build"
	ln -sfn "$common" "$moddir/source"
	echo "setup-deps: linked $moddir/build -> $hdr, source -> $common"
fi

if ! mountpoint -q /sys/kernel/tracing 2>/dev/null; then
	mount -t tracefs nodev /sys/kernel/tracing
	echo "setup-deps: mounted tracefs"
fi
if ! mountpoint -q /sys/kernel/debug 2>/dev/null; then
	mount -t debugfs nodev /sys/kernel/debug
	echo "setup-deps: mounted debugfs"
fi
echo "setup-deps: done"
