#!/usr/bin/env bash
# Where the PHI engine's wall time goes on one benchmark case: samples
# `examples/throughput CASE ITERS` with perf's software clock (`cpu-clock`:
# this VM exposes no hardware counters, but timer sampling works) and prints
# the hottest functions, self time. Complements `engine-icount.sh`
# (instructions, steady) and ablation (cut a step out, compare best
# iterations): a function's share here is its share of the time, stalls and
# mispredictions included, which instruction counts miss.
#   scripts/engine-perf.sh json_clean [1500] [N]   (N: rows, default 25)
#   perf annotate -i "$PERF_DATA" --stdio -l SYMBOL   (per source line, after)
# Needs perf (apt-get install -y linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v perf >/dev/null || { echo "perf is not installed" >&2; exit 1; }
[ $# -ge 1 ] || { echo "usage: $0 CASE [ITERS] [ROWS]" >&2; exit 2; }
case=$1 iters=${2:-1500} rows=${3:-25}
cargo build -q --release -p phiguard-engine --example throughput
bin="${CARGO_TARGET_DIR:-target}/release/examples/throughput"
data=${PERF_DATA:-/tmp/phiguard-engine-perf.data}
perf record -q -e cpu-clock -F 20000 -o "$data" "$bin" "$case" "$iters" >/dev/null 2>&1
echo "samples in $data (PERF_DATA to change); self time:"
perf report -i "$data" --no-children --sort symbol --stdio 2>/dev/null |
  awk -v rows="$rows" '/^ +[0-9.]+%/ && n < rows { sub(/[ -]+$/, ""); print; n++ }'
