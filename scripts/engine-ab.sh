#!/usr/bin/env bash
# Compares builds of the engine's throughput example, interleaved: ROUNDS
# rounds, each running `BIN all ITERS` for every BIN in turn, then prints the
# best MiB/s (CPU time of a whole run, and wall time of the fastest single
# iteration, the steadier of the two) per case and binary. Interleaving and best-of-N keep
# the comparison fair on a shared VM where single runs swing up to 2x.
# With exactly two binaries (OLD NEW) the rounds alternate which runs first,
# and a second table gives, per case, the median and quartiles of NEW's best
# iteration over OLD's within each round: the host's drift from round to
# round cancels, and the ratio is steady to about 1 % where the best-of
# figures above move 2-3 % from one run of the script to the next.
#   cargo build --release -p phiguard-engine --example throughput
#   cp target/release/examples/throughput /tmp/tp_new   # likewise /tmp/tp_old
#   scripts/engine-ab.sh 5 100 /tmp/tp_old /tmp/tp_new
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 ROUNDS ITERS BIN..." >&2; exit 2; }
rounds=$1 iters=$2
shift 2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  bins=("$@")
  [ $# -eq 2 ] && [ $((r % 2)) -eq 0 ] && bins=("$2" "$1")
  for bin in "${bins[@]}"; do
    "$bin" all "$iters" | awk -v b="$bin" -v r="$r" '{ print b, $1, $2, $(NF - 1), r }' >>"$out"
  done
done
awk '{ k = $2 " " $1; if ($3 > best[k]) best[k] = $3; if ($4 > iter[k]) iter[k] = $4 }
     END { for (k in best) print k, best[k], iter[k] }' "$out" |
  sort -k1,1 -k2,2 |
  awk 'BEGIN { printf "| case | binary | best MiB/s (cpu, whole run) | best single iteration MiB/s |\n|---|---|---:|---:|\n" }
       { printf "| `%s` | %s | %.1f | %.1f |\n", $1, $2, $3, $4 }'
if [ $# -eq 2 ]; then
  echo
  awk -v old="$1" -v new="$2" '
    $1 == old { o[$2 " " $5] = $4 } $1 == new { n[$2 " " $5] = $4 }
    END { for (k in n) if (o[k] > 0) { split(k, p, " "); print p[1], n[k] / o[k] } }' "$out" |
    sort -k1,1 -k2,2n |
    awk 'BEGIN { printf "| case | NEW/OLD best iteration, median of rounds | quartiles |\n|---|---:|---|\n" }
         function flush() { if (n) printf "| `%s` | %.3f | %.3f-%.3f |\n", c, v[int((n + 1) / 2)], v[int((n + 3) / 4)], v[int((3 * n + 3) / 4)] }
         $1 != c { flush(); c = $1; n = 0 } { v[++n] = $2 } END { flush() }'
fi
