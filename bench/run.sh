#!/bin/sh
# Benchmarks (not tests): every figure is a ratio against a peer measured
# in the same run.  Run from the build tree: `make bench`, or
#   MKT_BUILDDIR=. MKT_SRCDIR=. sh bench/run.sh
# BENCH_SIZE_MB (default 1024) sets the transfer size.
set -eu
: "${MKT_BUILDDIR:=$(pwd)}"
: "${MKT_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
# Absolute: the benches start daemons and drivers in other directories.
MKT_BUILDDIR=$(cd "$MKT_BUILDDIR" && pwd)
MKT_SRCDIR=$(cd "$MKT_SRCDIR" && pwd)
export MKT_BUILDDIR MKT_SRCDIR

echo "== driver dispatch: 1000 no-op actions, one at a time"
# A failed action would time nothing: the figures count only if all ran.
out=$("$MKT_BUILDDIR/bench/dispatch_bench" "$MKT_BUILDDIR/bench/drivers" 1000 2>/dev/null) || {
	echo "dispatch bench failed: $out (n pool spawn failed)" >&2
	exit 1
}
set -- $out
awk -v n="$1" -v pool="$2" -v spawn="$3" 'BEGIN {
	printf "%-46s %8.3f s  %-8s %8.3f s  %5.2fx slower (target <= 1.5x)\n",
	       "marketd driver pool", pool, "spawn", spawn, pool / spawn }'

echo "== ${BENCH_SIZE_MB:-1024} MiB through an http market (nginx on loopback)"
python3 "$MKT_SRCDIR/bench/transfer_bench.py"

echo "== monitor reconcile of a ${BENCH_CATALOG:-10000}-appliance catalog"
python3 "$MKT_SRCDIR/bench/catalog_bench.py"

echo "== ${BENCH_SIZE_MB:-1024} MiB through the s3 driver vs s3cmd (s3rver on loopback)"
python3 "$MKT_SRCDIR/bench/s3_bench.py"

echo "== an Open Service Broker: a ${BENCH_OSB_SERVICES:-1000}x${BENCH_OSB_PLANS:-5} catalog, ${BENCH_OSB_PROVISIONS:-200} async provisions"
python3 "$MKT_SRCDIR/bench/osb_bench.py"

echo "== federation: a master and two slaves, ${BENCH_FED_CHANGES:-10000} changes, lag at ${BENCH_FED_RATE:-200}/s, catch-up of ${BENCH_FED_CATCHUP:-50000}"
python3 "$MKT_SRCDIR/bench/fed_bench.py"

echo "== load: ${LOAD_CLIENTS:-64} clients, mixed reads and writes, ${LOAD_SECONDS:-60} s, with idle and slow connections"
python3 "$MKT_SRCDIR/bench/load_bench.py"

echo "== XML-RPC calls from ${RPC_BENCH_CLIENTS:-8} keep-alive clients (ab)"
python3 "$MKT_SRCDIR/bench/rpc_bench.py"
