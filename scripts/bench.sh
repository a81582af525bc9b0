#!/usr/bin/env bash
# bench.sh — `make bench`: prints every benchmark table. Each section is one
# benchmark; later parts of the project add theirs below.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

echo "== trace.h: the cost of a tracepoint (bench/README.md) =="
/usr/bin/python3 bench/trace_cost.py build/bench
