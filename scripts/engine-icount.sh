#!/usr/bin/env bash
# Instructions per payload byte of the PHI engine's benchmark cases, counted
# with callgrind: steady on shared machines where wall-clock MB/s swings 2x.
# For each case: (instructions of 3 iterations - of 1 iteration) / 2 / bytes.
#   scripts/engine-icount.sh [CASE ...]   (default: all six cases)
# Needs valgrind (apt-get install -y valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
cargo build -q -p phiguard-engine --release --example throughput
bin="${CARGO_TARGET_DIR:-target}/release/examples/throughput"
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(log_clean log_phi_1_per_kib query_clean query_phi json_clean json_phi)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '| case | instr/byte | findings/iter |\n|---|---:|---:|\n'
for c in "${cases[@]}"; do
  ir() {
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1" "$bin" "$c" "$1" 2>"$out/err.$1" >"$out/out.$1"
    grep -o 'Collected : [0-9]*' "$out/err.$1" | grep -o '[0-9]*$'
  }
  one=$(ir 1)
  three=$(ir 3)
  bytes=$(grep -o 'bytes/iter [0-9]*' "$out/out.3" | grep -o '[0-9]*$')
  findings=$(grep -o 'findings/iter [0-9]*' "$out/out.3" | grep -o '[0-9]*$')
  awk -v c="$c" -v a="$one" -v b="$three" -v n="$bytes" -v f="$findings" \
    'BEGIN { printf "| `%s` | %.2f | %s |\n", c, (b - a) / 2 / n, f }'
done
