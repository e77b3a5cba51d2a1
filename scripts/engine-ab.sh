#!/usr/bin/env bash
# Compares builds of the engine's throughput example, interleaved: ROUNDS
# rounds, each running `BIN all ITERS` for every BIN in turn, then prints the
# best MiB/s (CPU time of a whole run, and wall time of the fastest single
# iteration, the steadier of the two) per case and binary. Interleaving and best-of-N keep
# the comparison fair on a shared VM where single runs swing up to 2x.
#   cargo build --release -p phiguard-engine --example throughput
#   cp target/release/examples/throughput /tmp/tp_new   # likewise /tmp/tp_old
#   scripts/engine-ab.sh 5 100 /tmp/tp_old /tmp/tp_new
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 ROUNDS ITERS BIN..." >&2; exit 2; }
rounds=$1 iters=$2
shift 2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$rounds"); do
  for bin in "$@"; do
    "$bin" all "$iters" | awk -v b="$bin" '{ print b, $1, $2, $(NF - 1) }' >>"$out"
  done
done
awk '{ k = $2 " " $1; if ($3 > best[k]) best[k] = $3; if ($4 > iter[k]) iter[k] = $4 }
     END { for (k in best) print k, best[k], iter[k] }' "$out" |
  sort -k1,1 -k2,2 |
  awk 'BEGIN { printf "| case | binary | best MiB/s (cpu, whole run) | best single iteration MiB/s |\n|---|---|---:|---:|\n" }
       { printf "| `%s` | %s | %.1f | %.1f |\n", $1, $2, $3, $4 }'
